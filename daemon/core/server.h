/* server.h — the event loop's frame: listener, signals, the due-time timer. */
#ifndef PD_SERVER_H
#define PD_SERVER_H

/* At start: makes sure max_connections fits the open-file limit, raising
 * the soft limit if it must. Returns 0, or -1 after a message. */
int server_fd_limit(void);

/* Runs until SIGTERM or SIGINT; returns the exit code. */
int server_run(void);

#endif
