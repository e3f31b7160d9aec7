/*
 * core/tls.h - OpenSSL 3 server context: TLS 1.2 and 1.3 only, forward-
 * secret AEAD suites, no compression, no renegotiation.
 * Runs in: parent (loads cert and key before forking the workers).
 */
#ifndef TALON_TLS_H
#define TALON_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

/* Returns a context or NULL with a message in err. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, char *err, size_t errlen);
/* "TLSv1.3:TLS_AES_256_GCM_SHA384:256" style description for logs/Received. */
void tls_describe(SSL *ssl, char *dst, size_t dstsz);

#endif
