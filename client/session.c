/* session.c — connect, then AUTH when a user is given. */
#include "session.h"

#include <string.h>

#include "request_build.h"

enum session_status session_open(struct server_conn *c,
				 const struct client_options *opt,
				 struct client_error *err)
{
	c->tls = opt->tls;
	c->tls_ca = opt->tls_ca;
	if (conn_open(c, opt->host, opt->port, err) < 0)
		return SESSION_UNREACHABLE;
	if (!opt->user)
		return SESSION_READY;

	const char *words[] = { "AUTH", opt->user, opt->password ? opt->password : "" };
	struct pd_buf request;
	struct pd_arena a;
	struct pd_reply r;
	enum session_status status = SESSION_READY;
	pd_buf_init(&request);
	pd_arena_init(&a);
	request_encode_words(&request, 3, words);
	if (conn_call(c, &request, &a, &r, err) < 0) {
		status = SESSION_UNREACHABLE;
	} else if (r.code < 200 || r.code > 299) {
		client_error_set(err, "login as %s refused: %03d %s", opt->user, r.code,
				 r.msg ? r.msg : "");
		status = SESSION_LOGIN_REFUSED;
	}
	pd_arena_free(&a);
	explicit_bzero(request.data, request.len); /* it holds the password */
	pd_buf_free(&request);
	return status;
}
