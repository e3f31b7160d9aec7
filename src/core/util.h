/*
 * core/util.h - allocation that exits on failure, small string helpers.
 *
 * Functions starting with x exit the process on allocation failure: a mail
 * daemon that cannot allocate a few bytes is better restarted by its parent
 * than limping on.  Runs in: every process.
 */
#ifndef TALON_UTIL_H
#define TALON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string owned by the caller */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ASCII-only case folding; never locale dependent. */
static inline int
ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}
bool ascii_strcaseeq(const char *a, const char *b);
bool ascii_memcaseeq(const void *a, const void *b, size_t n);
void ascii_strlower(char *s);

/* Copy src into dst (size dstsz); returns false (and writes nothing
 * useful) when it would not fit including the NUL. */
bool str_copy(char *dst, size_t dstsz, const char *src);

/* Parse a decimal unsigned number in [0, max]; false on garbage/overflow. */
bool parse_u64(const char *s, uint64_t max, uint64_t *out);
/* The 6-bit value of a base64 character (RFC 4648 4) whose 63rd character
 * is c63 ('/' in base64, ',' in IMAP's modified base64); -1 for anything
 * else, '=' included. */
int b64_value(unsigned char c, char c63);

/* Escape untrusted bytes for a log line or a diagnostic: printable ASCII
 * kept (except backslash and double quote), everything else as \xNN.
 * Output that would not fit ends in "..."; always NUL-terminated. */
void log_escape(char *dst, size_t dstsz, const void *src, size_t len);

/* Monotonic milliseconds and wall-clock seconds. */
uint64_t now_ms(void);

/* write(2) all n bytes (EINTR retried): 0, or -1 with errno. */
int write_all(int fd, const void *p, size_t n);
/* Copy len bytes at offset off of from to the current offset of to
 * (copy_file_range where the kernel can, else read and write): 0, or -1
 * with errno (EIO when from is shorter). */
int copy_range(int from, uint64_t off, uint64_t len, int to);

#endif
