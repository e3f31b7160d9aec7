/*
 * core/b64.c - strict base64 decoding and encoding (rules in b64.h).
 *
 * Input:   any bytes from the network or a file.  Output: bytes, or a
 *          reason.  Trusts: nothing.  Runs in: any process.  Pure.
 * Every stack copy of decoded bytes is wiped: callers decode passwords.
 */
#include "core/b64.h"

#include <stdbool.h>
#include <string.h>

#include "core/util.h"

enum b64_rc
b64_decode(const void *src, size_t len, uint8_t *out, size_t max, size_t *n)
{
	const uint8_t *p = src;
	*n = 0;
	/* len > B64_ENC_LEN(max), computed without overflow */
	size_t q = max / 3 + (max % 3 != 0);
	if (len / 4 > q || (len / 4 == q && len % 4 != 0))
		return B64_TOO_LONG;
	if (len % 4 != 0)
		return B64_BAD;
	size_t pad = 0;
	if (len > 0 && p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > max)
		return B64_TOO_LONG;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		size_t real = last ? 4 - pad : 4;	/* alphabet characters */
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++) {
			int x = k < real ? b64_value(p[i + k], '/') : 0;
			if (x < 0)
				return B64_BAD;		/* '=' inside lands here */
			v = v << 6 | (uint32_t)x;
		}
		/* unused bits: 4 after "xx==", 2 after "xxx=" (with the zeros
		 * the padding stands for) */
		uint32_t unused = !last ? 0 : pad == 2 ? 0xffff : pad == 1 ? 0xff : 0;
		if ((v & unused) != 0)
			return B64_BAD;
		uint8_t b[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
		memcpy(out + o, b, real - 1);
		o += real - 1;
		explicit_bzero(b, sizeof b);
		explicit_bzero(&v, sizeof v);
	}
	*n = o;
	return B64_OK;
}

size_t
b64_encode(const void *src, size_t n, char *out, size_t outsz)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *s = src;
	if (outsz == 0)
		return 0;
	out[0] = '\0';
	/* B64_ENC_LEN(n) + 1 > outsz, computed without overflow */
	size_t q = n / 3 + (n % 3 != 0);
	if (q > (outsz - 1) / 4)
		return 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}
