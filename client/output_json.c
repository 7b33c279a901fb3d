/* output_json.c — replies as JSON, one object a line. */
#include <stdint.h>
#include <string.h>

#include "output.h"

static void json_string(struct pd_buf *b, const char *s, size_t n)
{
	pd_buf_adds(b, "\"");
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* pass valid UTF-8 through; JSON must not carry broken bytes */
			size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
				   : (c & 0xf8) == 0xf0 ? 4 : 1;
			if (len > 1 && i + len <= n && pd_utf8_valid(s + i, len)) {
				pd_buf_add(b, s + i, len);
				i += len;
			} else {
				pd_buf_adds(b, "\\ufffd");
				i++;
			}
			continue;
		}
		switch (c) {
		case '"': pd_buf_adds(b, "\\\""); break;
		case '\\': pd_buf_adds(b, "\\\\"); break;
		case '\n': pd_buf_adds(b, "\\n"); break;
		case '\r': pd_buf_adds(b, "\\r"); break;
		case '\t': pd_buf_adds(b, "\\t"); break;
		case '\b': pd_buf_adds(b, "\\b"); break;
		case '\f': pd_buf_adds(b, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				pd_buf_printf(b, "\\u%04x", c);
			else
				pd_buf_add(b, s + i, 1);
		}
		i++;
	}
	pd_buf_adds(b, "\"");
}

static void json_value(struct pd_buf *b, const struct pd_value *v)
{
	switch (v->type) {
	case PD_NIL: pd_buf_adds(b, "null"); return;
	case PD_BOOL: pd_buf_adds(b, v->u.b ? "true" : "false"); return;
	case PD_INT: pd_buf_printf(b, "%lld", (long long)v->u.i); return;
	case PD_STR: json_string(b, v->u.s.ptr, v->u.s.len); return;
	case PD_MAP:
	case PD_ARR:
		pd_buf_adds(b, v->type == PD_MAP ? "{" : "[");
		for (struct pd_entry *e = v->u.c.head; e; e = e->next) {
			if (e != v->u.c.head)
				pd_buf_adds(b, ",");
			if (v->type == PD_MAP) {
				json_string(b, e->key, e->key_len);
				pd_buf_adds(b, ":");
			}
			json_value(b, e->val);
		}
		pd_buf_adds(b, v->type == PD_MAP ? "}" : "]");
		return;
	}
}

void output_json(FILE *f, const struct pd_reply *r)
{
	struct pd_buf b;
	pd_buf_init(&b);
	pd_buf_printf(&b, "{\"code\":%d,\"msg\":", r->code);
	const char *msg = r->msg ? r->msg : "";
	json_string(&b, msg, strlen(msg));
	pd_buf_adds(&b, ",\"data\":");
	if (r->data)
		json_value(&b, r->data);
	else
		pd_buf_adds(&b, "null");
	pd_buf_adds(&b, "}\n");
	fwrite(b.data, 1, b.len, f);
	pd_buf_free(&b);
}
