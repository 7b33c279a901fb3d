/* tls.c — the server side of TLS. */
#include "tls.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/bufferevent_ssl.h>

#include "daemon.h"

static SSL_CTX *ctx;

static int tls_fail(const char *what, const char *path)
{
	char e[256];
	ERR_error_string_n(ERR_get_error(), e, sizeof(e));
	fprintf(stderr, "parceldeskd: %s %s: %s\n", what, path, e);
	return -1;
}

int tls_setup(void)
{
	const struct config *c = &g_config;
	if (!c->tls_cert[0] && !c->tls_key[0] && !c->tls_ca[0])
		return 0;
	if (!c->tls_cert[0] || !c->tls_key[0]) {
		fprintf(stderr, "parceldeskd: TLS needs both tls_cert and tls_key\n");
		return -1;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return tls_fail("cannot set up", "TLS");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1)
		return tls_fail("cannot load the certificate", c->tls_cert);
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1)
		return tls_fail("cannot load the key", c->tls_key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail("the key does not match the certificate", c->tls_cert);
	if (c->tls_ca[0]) {
		if (SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1)
			return tls_fail("cannot load the CA", c->tls_ca);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return 0;
}

bool tls_enabled(void)
{
	return ctx != NULL;
}

struct bufferevent *tls_bufferevent(struct event_base *base, evutil_socket_t fd)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* a client that just closes (no close_notify) is an EOF, as in clear */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	/* once, not waited for: it is called with the replies all written,
	 * so the socket has room for the alert's few dozen bytes; if it had
	 * not, a part of the alert would go and the client would see a
	 * truncated session, the rare case accepted here */
	if (ssl && SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	ERR_clear_error();
}

const char *tls_error(struct bufferevent *bev)
{
	static __thread char e[256]; /* each loop thread its own */
	unsigned long code = bufferevent_get_openssl_error(bev);
	if (!code)
		return NULL;
	ERR_error_string_n(code, e, sizeof(e));
	return e;
}

void tls_teardown(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}
