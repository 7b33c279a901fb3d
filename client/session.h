/* session.h — a connection ready for commands: connected and, when the user
 * gave a name, logged in with AUTH. Interactive mode opens a session again
 * when the daemon has closed an idle one. */
#ifndef PD_CLIENT_SESSION_H
#define PD_CLIENT_SESSION_H

#include "client.h"
#include "connection.h"

enum session_status {
	SESSION_READY,
	SESSION_UNREACHABLE,    /* no connection: exit status 2 */
	SESSION_LOGIN_REFUSED,  /* the daemon said no to AUTH: exit status 1 */
};

/* Returns SESSION_READY, or another status with err saying why. */
enum session_status session_open(struct server_conn *c,
				 const struct client_options *opt,
				 struct client_error *err);

#endif
