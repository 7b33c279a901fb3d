/* pipe_mode.h — commands from standard input, one a line, for scripts.
 *
 * Requests are pipelined: up to MAX_REQUESTS_IN_FLIGHT are written before
 * their replies are read, and replies are printed in the order of the
 * lines. A line the client itself rejects (bad quoting, a bad yuan amount)
 * is answered in its place with a 400 reply that was never sent, so the
 * n-th reply always belongs to the n-th command. Blank lines and lines
 * starting with # are skipped. */
#ifndef PD_CLIENT_PIPE_MODE_H
#define PD_CLIENT_PIPE_MODE_H

#include "connection.h"
#include "output.h"

#define MAX_REQUESTS_IN_FLIGHT 256

/* Runs until end of input (or QUIT) and every reply is printed. Returns the
 * exit status: 0, 1 if any reply was an error, 2 if the connection failed. */
int pipe_mode_run(struct server_conn *c, int input_fd, struct output *o);

#endif
