/*
 * core/tls.c - OpenSSL server context setup.
 */
#include "core/tls.h"

#include <stdio.h>
#include <openssl/err.h>

static void
ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	char b[256] = "";
	if (e)
		ERR_error_string_n(e, b, sizeof b);
	snprintf(err, errlen, "%s %s: %s", what, path, e ? b : "unknown error");
	ERR_clear_error();
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		ssl_err(err, errlen, "cannot create TLS context", "");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* TLS 1.2: ECDHE with AEAD only (RFC 7525 recommendations). */
	SSL_CTX_set_cipher_list(ctx,
	    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
	    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
	/* Idle TLS sessions keep no 34 KB read/write buffers. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	/* No session tickets: their key would live unrotated in every smtp
	 * worker for the life of a config generation, and a mail client gains
	 * little from resumption.  TLS 1.2 clients may still resume from the
	 * worker's own session cache. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_err(err, errlen, "cannot load certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ssl_err(err, errlen, "cannot load private key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_err(err, errlen, "private key does not match certificate", key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void
tls_describe(SSL *ssl, char *dst, size_t dstsz)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	int bits = c ? SSL_CIPHER_get_bits(c, NULL) : 0;
	snprintf(dst, dstsz, "%s:%s:%d", SSL_get_version(ssl),
	    c ? SSL_CIPHER_get_name(c) : "none", bits);
}
