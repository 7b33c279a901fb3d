/* version.h — the one version string of both programs. */
#ifndef PD_VERSION_H
#define PD_VERSION_H

/* "0.1.0" or "0.1.0 (git 1a2b3c4d5e6f)" when built from a git checkout
 * ("+dirty" when it had uncommitted changes). The number is the file VERSION;
 * the Makefile passes it and the commit to version.c alone. */
const char *pd_version(void);

#endif
