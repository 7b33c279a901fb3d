/* value.c — arena, value tree, msgpack encode (msgpack-c) and bounded decode. */
#include "value.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_BYTES (16 * 1024)

struct pd_arena_chunk {
	struct pd_arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

void pd_arena_init(struct pd_arena *a)
{
	a->head = NULL;
	a->used_bytes = 0;
}

void pd_arena_reset(struct pd_arena *a)
{
	struct pd_arena_chunk *c = a->head;
	if (!c)
		return;
	/* keep the last (oldest, default-sized) chunk */
	while (c->next) {
		struct pd_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	c->used = 0;
	a->head = c;
	a->used_bytes = 0;
}

void pd_arena_free(struct pd_arena *a)
{
	struct pd_arena_chunk *c = a->head;
	while (c) {
		struct pd_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
}

void *pd_alloc(struct pd_arena *a, size_t n)
{
	void *p = pd_alloc_raw(a, n);
	memset(p, 0, n);
	return p;
}

void *pd_alloc_raw(struct pd_arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	struct pd_arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK_BYTES ? n : ARENA_CHUNK_BYTES;
		c = malloc(sizeof(*c) + size);
		if (!c)
			abort();
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	a->used_bytes += n;
	return p;
}

char *pd_strndup(struct pd_arena *a, const char *s, size_t n)
{
	char *p = pd_alloc_raw(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pd_strdup(struct pd_arena *a, const char *s)
{
	return pd_strndup(a, s, strlen(s));
}

char *pd_sprintf(struct pd_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	char *p = pd_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

static struct pd_value *value_new(struct pd_arena *a, enum pd_type t)
{
	struct pd_value *v = pd_alloc_raw(a, sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->type = t;
	return v;
}

static struct pd_entry *entry_new(struct pd_arena *a, const char *key,
				  size_t key_len, struct pd_value *val)
{
	struct pd_entry *e = pd_alloc_raw(a, sizeof(*e));
	e->key = key;
	e->key_len = key_len;
	e->val = val;
	e->next = NULL;
	return e;
}

struct pd_value *pd_nil(struct pd_arena *a) { return value_new(a, PD_NIL); }

struct pd_value *pd_bool(struct pd_arena *a, bool b)
{
	struct pd_value *v = value_new(a, PD_BOOL);
	v->u.b = b;
	return v;
}

struct pd_value *pd_int(struct pd_arena *a, int64_t i)
{
	struct pd_value *v = value_new(a, PD_INT);
	v->u.i = i;
	return v;
}

struct pd_value *pd_str_ref(struct pd_arena *a, const char *s, size_t n)
{
	struct pd_value *v = value_new(a, PD_STR);
	v->u.s.ptr = s;
	v->u.s.len = n;
	return v;
}

struct pd_value *pd_strn(struct pd_arena *a, const char *s, size_t n)
{
	/* the value and its bytes in one allocation */
	struct pd_value *v = pd_alloc_raw(a, sizeof(*v) + n + 1);
	char *copy = (char *)(v + 1);
	memcpy(copy, s, n);
	copy[n] = '\0';
	memset(v, 0, sizeof(*v));
	v->type = PD_STR;
	v->u.s.ptr = copy;
	v->u.s.len = n;
	return v;
}

struct pd_value *pd_str(struct pd_arena *a, const char *s)
{
	return pd_strn(a, s, strlen(s));
}

struct pd_value *pd_map(struct pd_arena *a) { return value_new(a, PD_MAP); }
struct pd_value *pd_arr(struct pd_arena *a) { return value_new(a, PD_ARR); }

static void container_append(struct pd_value *c, struct pd_entry *e)
{
	if (c->u.c.tail)
		c->u.c.tail->next = e;
	else
		c->u.c.head = e;
	c->u.c.tail = e;
	c->u.c.count++;
}

static struct pd_entry *map_find(const struct pd_value *map, const char *key,
				 size_t key_len)
{
	if (!map || map->type != PD_MAP)
		return NULL;
	for (struct pd_entry *e = map->u.c.head; e; e = e->next)
		if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
			return e;
	return NULL;
}

void pd_map_set(struct pd_arena *a, struct pd_value *map, const char *key,
		struct pd_value *val)
{
	size_t key_len = strlen(key);
	struct pd_entry *e = map_find(map, key, key_len);
	if (e) {
		e->val = val;
		return;
	}
	container_append(map, entry_new(a, key, key_len, val));
}

void pd_map_append(struct pd_arena *a, struct pd_value *map, const char *key,
		   size_t key_len, struct pd_value *val)
{
	container_append(map, entry_new(a, key, key_len, val));
}

void pd_map_set_str(struct pd_arena *a, struct pd_value *map, const char *key,
		    const char *s)
{
	pd_map_set(a, map, key, s ? pd_str(a, s) : pd_nil(a));
}

void pd_map_set_int(struct pd_arena *a, struct pd_value *map, const char *key,
		    int64_t i)
{
	pd_map_set(a, map, key, pd_int(a, i));
}

void pd_map_set_bool(struct pd_arena *a, struct pd_value *map, const char *key,
		     bool b)
{
	pd_map_set(a, map, key, pd_bool(a, b));
}

void pd_arr_push(struct pd_arena *a, struct pd_value *arr, struct pd_value *v)
{
	container_append(arr, entry_new(a, NULL, 0, v));
}

struct pd_value *pd_map_get(const struct pd_value *map, const char *key)
{
	struct pd_entry *e = map_find(map, key, strlen(key));
	return e ? e->val : NULL;
}

const char *pd_map_str(const struct pd_value *map, const char *key)
{
	struct pd_value *v = pd_map_get(map, key);
	return v && v->type == PD_STR ? v->u.s.ptr : NULL;
}

bool pd_map_int(const struct pd_value *map, const char *key, int64_t *out)
{
	struct pd_value *v = pd_map_get(map, key);
	if (!v || v->type != PD_INT)
		return false;
	*out = v->u.i;
	return true;
}

bool pd_map_bool(const struct pd_value *map, const char *key)
{
	struct pd_value *v = pd_map_get(map, key);
	return v && v->type == PD_BOOL && v->u.b;
}

struct pd_value *pd_value_copy(struct pd_arena *a, const struct pd_value *v)
{
	switch (v->type) {
	case PD_NIL: return pd_nil(a);
	case PD_BOOL: return pd_bool(a, v->u.b);
	case PD_INT: return pd_int(a, v->u.i);
	case PD_STR: return pd_strn(a, v->u.s.ptr, v->u.s.len);
	case PD_MAP: {
		struct pd_value *m = pd_map(a);
		for (struct pd_entry *e = v->u.c.head; e; e = e->next)
			container_append(m, entry_new(a, pd_strndup(a, e->key, e->key_len),
						      e->key_len, pd_value_copy(a, e->val)));
		return m;
	}
	case PD_ARR: {
		struct pd_value *r = pd_arr(a);
		for (struct pd_entry *e = v->u.c.head; e; e = e->next)
			pd_arr_push(a, r, pd_value_copy(a, e->val));
		return r;
	}
	}
	return pd_nil(a);
}

/* ---- msgpack encoding ---- */

/* A string as msgpack_pack_str_with_body() packs it, but a short one (a
 * fixstr: most keys and values of a record) in one call of the writer
 * instead of two: a call costs more than copying a few bytes. */
int pd_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	if (n >= 32)
		return msgpack_pack_str_with_body(pk, s, n);
	char b[32];
	b[0] = (char)(0xa0 | n);
	memcpy(b + 1, s, n);
	return pk->callback(pk->data, b, n + 1);
}

int pd_value_pack(msgpack_packer *pk, const struct pd_value *v)
{
	int rc = 0;
	switch (v->type) {
	case PD_NIL: return msgpack_pack_nil(pk);
	case PD_BOOL: return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	case PD_INT: return msgpack_pack_int64(pk, v->u.i);
	case PD_STR: return pd_pack_str(pk, v->u.s.ptr, v->u.s.len);
	case PD_MAP:
		rc = msgpack_pack_map(pk, v->u.c.count);
		for (struct pd_entry *e = v->u.c.head; e && rc == 0; e = e->next) {
			rc = pd_pack_str(pk, e->key, e->key_len);
			if (rc == 0)
				rc = pd_value_pack(pk, e->val);
		}
		return rc;
	case PD_ARR:
		rc = msgpack_pack_array(pk, v->u.c.count);
		for (struct pd_entry *e = v->u.c.head; e && rc == 0; e = e->next)
			rc = pd_value_pack(pk, e->val);
		return rc;
	}
	return -1;
}

int pd_value_to_msgpack(const struct pd_value *v, char **buf, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (pd_value_pack(&pk, v) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	*len = sb.size;
	*buf = msgpack_sbuffer_release(&sb);
	return 0;
}

/* ---- bounded msgpack decoding ---- */

/* Reads an n-byte (1, 2, 4 or 8) big-endian length or value after the type
 * byte: a load and a byte swap, not a loop a byte. */
static enum pd_unpack_status take(const unsigned char **p, const unsigned char *end,
				  int n, uint64_t *out)
{
	if (end - *p < n)
		return PD_UNPACK_INCOMPLETE;
	uint16_t v16;
	uint32_t v32;
	switch (n) {
	case 1: *out = **p; break;
	case 2: memcpy(&v16, *p, 2); *out = be16toh(v16); break;
	case 4: memcpy(&v32, *p, 4); *out = be32toh(v32); break;
	default: memcpy(out, *p, 8); *out = be64toh(*out); break;
	}
	*p += n;
	return PD_UNPACK_OK;
}

enum pd_unpack_status pd_mp_next_long(const unsigned char **p, const unsigned char *end,
				      struct pd_mp_item *it)
{
	unsigned char t = *(*p)++;
	uint64_t n;
	enum pd_unpack_status st;

	it->type = PD_INT;
	switch (t) {
	case 0xc0: it->type = PD_NIL; return PD_UNPACK_OK;
	case 0xc2: case 0xc3: it->type = PD_BOOL; it->b = t == 0xc3; return PD_UNPACK_OK;
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		if ((st = take(p, end, 1 << (t - 0xcc), &n)) != PD_UNPACK_OK)
			return st;
		if (n > INT64_MAX)
			return PD_UNPACK_MALFORMED;
		it->i = (int64_t)n;
		return PD_UNPACK_OK;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		int w = 1 << (t - 0xd0);
		if ((st = take(p, end, w, &n)) != PD_UNPACK_OK)
			return st;
		if (w == 1) it->i = (int8_t)n;
		else if (w == 2) it->i = (int16_t)n;
		else if (w == 4) it->i = (int32_t)n;
		else it->i = (int64_t)n;
		return PD_UNPACK_OK;
	}
	case 0xd9: case 0xda: case 0xdb:
		if ((st = take(p, end, 1 << (t - 0xd9), &n)) != PD_UNPACK_OK)
			return st;
		if ((uint64_t)(end - *p) < n)
			return PD_UNPACK_INCOMPLETE;
		it->type = PD_STR;
		it->s = (const char *)*p;
		it->count = n;
		*p += n;
		return PD_UNPACK_OK;
	case 0xdc: case 0xdd: case 0xde: case 0xdf:
		if ((st = take(p, end, t & 1 ? 4 : 2, &n)) != PD_UNPACK_OK)
			return st;
		it->type = t <= 0xdd ? PD_ARR : PD_MAP;
		it->count = n;
		return PD_UNPACK_OK;
	default:
		/* 0xc1 (never used), bin, ext, float: not part of our protocol */
		return PD_UNPACK_MALFORMED;
	}
}

struct decoder {
	struct pd_arena *a;
	const unsigned char *p, *end;
};

static enum pd_unpack_status decode(struct decoder *d, int depth,
				    struct pd_value **out);

static enum pd_unpack_status decode_container(struct decoder *d, int depth,
					      uint64_t count, bool is_map,
					      struct pd_value **out)
{
	if (depth >= PD_UNPACK_MAX_DEPTH)
		return PD_UNPACK_TOO_DEEP;
	/* Every element takes at least one byte (two for a map entry): a count
	 * larger than that cannot be satisfied by the bytes present yet. We
	 * allocate per element as we go, so a lying header costs nothing. */
	struct pd_value *c = is_map ? pd_map(d->a) : pd_arr(d->a);
	for (uint64_t i = 0; i < count; i++) {
		if (d->p >= d->end)
			return PD_UNPACK_INCOMPLETE;
		struct pd_entry *e = entry_new(d->a, NULL, 0, NULL);
		if (is_map) {
			struct pd_value *k;
			enum pd_unpack_status st = decode(d, depth + 1, &k);
			if (st != PD_UNPACK_OK)
				return st;
			if (k->type != PD_STR)
				return PD_UNPACK_MALFORMED;
			e->key = k->u.s.ptr; /* NUL-terminated copy */
			e->key_len = k->u.s.len;
		}
		enum pd_unpack_status st = decode(d, depth + 1, &e->val);
		if (st != PD_UNPACK_OK)
			return st;
		container_append(c, e);
	}
	*out = c;
	return PD_UNPACK_OK;
}

struct pd_value *pd_mp_scalar(struct pd_arena *a, const struct pd_mp_item *it)
{
	switch (it->type) {
	case PD_BOOL: return pd_bool(a, it->b);
	case PD_INT: return pd_int(a, it->i);
	case PD_STR: return pd_strn(a, it->s, (size_t)it->count);
	default: return pd_nil(a);
	}
}

static enum pd_unpack_status decode(struct decoder *d, int depth,
				    struct pd_value **out)
{
	struct pd_mp_item it;
	enum pd_unpack_status st = pd_mp_next(&d->p, d->end, &it);
	if (st != PD_UNPACK_OK)
		return st;
	if (it.type == PD_MAP || it.type == PD_ARR)
		return decode_container(d, depth, it.count, it.type == PD_MAP, out);
	*out = pd_mp_scalar(d->a, &it);
	return PD_UNPACK_OK;
}

enum pd_unpack_status pd_value_unpack(struct pd_arena *a, const char *buf,
				      size_t len, size_t *used,
				      struct pd_value **out)
{
	struct decoder d = { a, (const unsigned char *)buf,
			     (const unsigned char *)buf + len };
	enum pd_unpack_status st = decode(&d, 0, out);
	if (st == PD_UNPACK_OK)
		*used = (size_t)(d.p - (const unsigned char *)buf);
	return st;
}

/* ---- incremental framing ---- */

void pd_mp_scan_init(struct pd_mp_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->left[0] = 1; /* one object: the frame */
}

/* Flattened: the whole reader inline in the loop, pd_mp_next_long too (a
 * call an item was a third of the framing's time). The place, the depth and
 * the count due at that depth are kept in locals while walking and stored
 * once on the way out: kept in *s, each item loaded and stored them again
 * (39 instructions an item over a GET reply's 219, 19 this way). */
__attribute__((flatten)) enum pd_unpack_status
pd_mp_scan(struct pd_mp_scan *s, const char *buf, size_t len)
{
	const unsigned char *base = (const unsigned char *)buf, *end = base + len;
	const unsigned char *p = base + s->pos;
	int depth = s->depth;
	uint64_t due = s->left[depth]; /* objects still due at depth */
	enum pd_unpack_status st = PD_UNPACK_OK;
	for (;;) {
		if (!due) {
			if (!depth)
				break;
			due = s->left[--depth];
			continue;
		}
		/* pd_mp_next reads each header as the decoder does (a string's
		 * bytes are stepped over, not copied); an item cut short is read
		 * again from its header next time */
		const unsigned char *q = p;
		struct pd_mp_item it;
		if ((st = pd_mp_next(&q, end, &it)) != PD_UNPACK_OK)
			break;
		if (it.type == PD_MAP || it.type == PD_ARR) {
			if (depth >= PD_UNPACK_MAX_DEPTH) {
				st = PD_UNPACK_TOO_DEEP;
				break;
			}
			if (it.count) {
				s->left[depth++] = due - 1;
				due = it.type == PD_MAP ? 2 * it.count : it.count;
				p = q;
				continue;
			}
		}
		p = q;
		due--;
	}
	s->pos = (size_t)(p - base);
	s->depth = depth;
	s->left[depth] = due;
	return st;
}
