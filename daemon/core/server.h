/* server.h — the event loop's frame: listener, signals, the due-time timer. */
#ifndef PD_SERVER_H
#define PD_SERVER_H

/* Runs until SIGTERM or SIGINT; returns the exit code. */
int server_run(void);

#endif
