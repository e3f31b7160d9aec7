#include <stdlib.h>
#include <string.h>
#include "imap/mime.h"
struct mime_msg { const uint8_t *p; size_t len; };
int mime_parse(const uint8_t *msg, size_t len, struct mime_msg **out) { *out = calloc(1, sizeof **out); (*out)->p = msg; (*out)->len = len; return 0; }
void mime_free(struct mime_msg **m) { free(*m); *m = NULL; }
uint64_t mime_crlf_size(const uint8_t *msg, size_t len) { uint64_t n = 0; for (size_t i = 0; i < len; i++) n += (msg[i] == '\n' && (i == 0 || msg[i-1] != '\r')) ? 2 : 1; return n; }
void mime_envelope(const struct mime_msg *m, struct buf *out) { buf_puts(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"); }
void mime_bodystructure(const struct mime_msg *m, bool e, struct buf *out) { buf_puts(out, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)"); }
int mime_section_parse(const char *spec, size_t len, struct mime_section *sec, const char **why) { memset(sec, 0, sizeof *sec); sec->text = len == 0 ? MIME_SEC_BODY : (len == 4 && !memcmp(spec, "TEXT", 4)) ? MIME_SEC_TEXT : MIME_SEC_HEADER; return 0; }
int mime_section_get(const struct mime_msg *m, const struct mime_section *sec, struct buf *out) {
	size_t hl = 0; for (size_t i = 0; i + 1 < m->len; i++) if (m->p[i] == '\n' && m->p[i+1] == '\n') { hl = i + 2; break; }
	size_t a = 0, b = m->len; if (sec->text == MIME_SEC_HEADER) b = hl; if (sec->text == MIME_SEC_TEXT) a = hl;
	for (size_t i = a; i < b; i++) { if (m->p[i] == '\n' && (i == 0 || m->p[i-1] != '\r')) buf_putc(out, '\r'); buf_putc(out, m->p[i]); } return 0; }
int mime_binary_get(const struct mime_msg *m, const struct mime_section *sec, struct buf *out) { return mime_section_get(m, sec, out); }
