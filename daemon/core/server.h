/* server.h — the event loop: listener, connections, framing, dispatch. */
#ifndef PD_SERVER_H
#define PD_SERVER_H

/* Runs until SIGTERM or SIGINT; returns the exit code. */
int server_run(void);

#endif
