/* client_error.c — filling a struct client_error. */
#include <stdarg.h>
#include <stdio.h>

#include "client.h"

void client_error_set(struct client_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}
