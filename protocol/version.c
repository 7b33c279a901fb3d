/* version.c — see version.h. Only this file is rebuilt when the commit
 * changes. */
#include "version.h"

#ifndef PD_VERSION
#define PD_VERSION "unknown" /* built without the Makefile (the fuzz target) */
#endif
#ifndef PD_COMMIT
#define PD_COMMIT ""
#endif

const char *pd_version(void)
{
	return PD_COMMIT[0] ? PD_VERSION " (git " PD_COMMIT ")" : PD_VERSION;
}
