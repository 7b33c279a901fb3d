/* value.h — the one data model of parceldesk: requests' arguments, replies'
 * data and stored records are trees of pd_value, allocated from an arena that
 * is freed at once when the request is done.
 *
 * Encoding: pd_value_pack() writes msgpack with msgpack-c's packer;
 * pd_value_unpack() is our own bounded decoder (depth, counts and lengths are
 * checked against the bytes present before anything is allocated), used for
 * requests off the wire and for records read from LMDB. */
#ifndef PD_VALUE_H
#define PD_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* ---- arena: bump allocator, freed in one call ---- */
struct pd_arena_chunk;
struct pd_arena {
	struct pd_arena_chunk *head;
	size_t used_bytes;
};

void pd_arena_init(struct pd_arena *a);
/* Frees every chunk but the first, which is kept for reuse. */
void pd_arena_reset(struct pd_arena *a);
void pd_arena_free(struct pd_arena *a);
/* Zeroed memory (pd_alloc_raw: not zeroed, for what is filled at once).
 * Never returns NULL: aborts the process when memory is exhausted, as an
 * allocation failure this small means the machine is already lost. */
void *pd_alloc(struct pd_arena *a, size_t n);
void *pd_alloc_raw(struct pd_arena *a, size_t n);
char *pd_strndup(struct pd_arena *a, const char *s, size_t n);
char *pd_strdup(struct pd_arena *a, const char *s);
char *pd_sprintf(struct pd_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- values ---- */
enum pd_type { PD_NIL, PD_BOOL, PD_INT, PD_STR, PD_MAP, PD_ARR };

struct pd_entry;
struct pd_value {
	enum pd_type type;
	union {
		bool b;
		int64_t i;
		struct { const char *ptr; size_t len; } s;
		/* maps and arrays keep insertion order */
		struct { struct pd_entry *head, *tail; size_t count; } c;
	} u;
};

/* One map entry (key set) or one array item (key NULL). */
struct pd_entry {
	const char *key;
	size_t key_len;
	struct pd_value *val;
	struct pd_entry *next;
};

struct pd_value *pd_nil(struct pd_arena *a);
struct pd_value *pd_bool(struct pd_arena *a, bool b);
struct pd_value *pd_int(struct pd_arena *a, int64_t i);
/* The string is copied into the arena. */
struct pd_value *pd_str(struct pd_arena *a, const char *s);
struct pd_value *pd_strn(struct pd_arena *a, const char *s, size_t n);
/* The string is referenced, not copied: it must be NUL-terminated at n and
 * outlive the value. Every PD_STR is NUL-terminated. */
struct pd_value *pd_str_ref(struct pd_arena *a, const char *s, size_t n);
struct pd_value *pd_map(struct pd_arena *a);
struct pd_value *pd_arr(struct pd_arena *a);

/* Appends; a map keeps duplicates out by replacing an existing key. */
void pd_map_set(struct pd_arena *a, struct pd_value *map, const char *key,
		struct pd_value *val);
/* Appends without looking for the key: for building a map whose keys are
 * known to be distinct (copying one). key must outlive the map. */
void pd_map_append(struct pd_arena *a, struct pd_value *map, const char *key,
		   size_t key_len, struct pd_value *val);
void pd_map_set_str(struct pd_arena *a, struct pd_value *map, const char *key,
		    const char *s);
void pd_map_set_int(struct pd_arena *a, struct pd_value *map, const char *key,
		    int64_t i);
void pd_map_set_bool(struct pd_arena *a, struct pd_value *map, const char *key,
		     bool b);
void pd_arr_push(struct pd_arena *a, struct pd_value *arr, struct pd_value *v);

/* Look-ups on a map; NULL when absent or of another type. */
struct pd_value *pd_map_get(const struct pd_value *map, const char *key);
const char *pd_map_str(const struct pd_value *map, const char *key);
bool pd_map_int(const struct pd_value *map, const char *key, int64_t *out);
bool pd_map_bool(const struct pd_value *map, const char *key);
/* Deep copy into another arena (used when a value must outlive a txn). */
struct pd_value *pd_value_copy(struct pd_arena *a, const struct pd_value *v);

/* ---- msgpack ---- */
int pd_value_pack(msgpack_packer *pk, const struct pd_value *v);
/* A string, the bytes msgpack_pack_str_with_body() writes; one call of
 * the packer's writer for a fixstr (under 32 bytes) instead of two. */
int pd_pack_str(msgpack_packer *pk, const char *s, size_t n);

#define PD_UNPACK_MAX_DEPTH 16

enum pd_unpack_status {
	PD_UNPACK_OK = 0,
	PD_UNPACK_INCOMPLETE = -1, /* more bytes needed */
	PD_UNPACK_MALFORMED = -2,  /* not msgpack, or a type we do not take */
	PD_UNPACK_TOO_DEEP = -3,
};

/* One msgpack item as read from bytes, without building a value: a scalar
 * (nil, bool, int i, str s of count bytes, pointing into the bytes) or the
 * head of a map or array of count entries (which follow). */
struct pd_mp_item {
	enum pd_type type;
	bool b;
	int64_t i;
	const char *s;
	uint64_t count;
};
/* pd_mp_next's items whose head is more than the type byte (value.c;
 * *p < end). */
enum pd_unpack_status pd_mp_next_long(const unsigned char **p, const unsigned char *end,
				      struct pd_mp_item *it);

/* Reads the item at *p and moves *p past it (past a container's head
 * only). The one msgpack reader: pd_value_unpack builds its tree with it,
 * pd_mp_scan frames with it, the text renderer reads a reply's data with
 * it. Inline: the items whose type byte is their whole head (a small int,
 * a string of up to 31 bytes, a map or array of up to 15: nearly every
 * key and value) without a call; the others in pd_mp_next_long. */
static inline enum pd_unpack_status pd_mp_next(const unsigned char **p, const unsigned char *end,
					       struct pd_mp_item *it)
{
	if (*p >= end)
		return PD_UNPACK_INCOMPLETE;
	unsigned char t = **p;
	if (t >= 0xa0 && t <= 0xbf) {
		uint64_t n = t & 0x1f;
		if ((uint64_t)(end - *p) <= n) /* the type byte and n more */
			return PD_UNPACK_INCOMPLETE;
		it->type = PD_STR;
		it->s = (const char *)*p + 1;
		it->count = n;
		*p += 1 + n;
		return PD_UNPACK_OK;
	}
	if (t <= 0x7f || t >= 0xe0) {
		it->type = PD_INT;
		it->i = (int8_t)t; /* 0..127 or -32..-1 */
		(*p)++;
		return PD_UNPACK_OK;
	}
	if (t <= 0x9f) { /* 0x80..0x9f */
		it->type = t >= 0x90 ? PD_ARR : PD_MAP;
		it->count = t & 0x0f;
		(*p)++;
		return PD_UNPACK_OK;
	}
	return pd_mp_next_long(p, end, it);
}

/* A scalar item (nil, bool, int, str) as a value; a string is copied. */
struct pd_value *pd_mp_scalar(struct pd_arena *a, const struct pd_mp_item *it);

/* Decodes one msgpack object from buf[0..len). On PD_UNPACK_OK *used is the
 * number of bytes it took. Strings are copied into the arena, NUL-terminated
 * (a string may still hold NUL bytes inside: check len). Floats, ext and bin types are refused as malformed; maps must
 * have string keys. */
enum pd_unpack_status pd_value_unpack(struct pd_arena *a, const char *buf,
				      size_t len, size_t *used,
				      struct pd_value **out);

/* Incremental framing: finds where one msgpack object ends without
 * decoding it or allocating, keeping its place between calls, so a frame
 * arriving a byte at a time costs one look at each header, not a decode
 * per byte. The daemon reads a frame that came whole into its request at
 * once (pd_request_read_msgpack(), request.h) and frames one that did not
 * with this; a client that wants only a reply's status reads it with
 * pd_reply_status_from_msgpack() (reply.h). */
struct pd_mp_scan {
	size_t pos;   /* bytes of the frame known to be complete objects */
	int depth;    /* containers open at pos */
	uint64_t left[PD_UNPACK_MAX_DEPTH + 1]; /* objects still due at each depth */
};

void pd_mp_scan_init(struct pd_mp_scan *s);
/* Scans buf[s->pos .. len) of a frame that starts at buf[0] (bytes after
 * the frame are left alone). Returns PD_UNPACK_OK when the frame is
 * complete (s->pos is its length, pd_value_unpack()'s *used),
 * PD_UNPACK_INCOMPLETE when more bytes are needed (call again with them),
 * or PD_UNPACK_MALFORMED (an item pd_mp_next() refuses; map key types are
 * left to pd_value_unpack()) / PD_UNPACK_TOO_DEEP where it would say so.
 * pd_mp_scan_init() again for the next frame. */
enum pd_unpack_status pd_mp_scan(struct pd_mp_scan *s, const char *buf, size_t len);

/* Encodes a value into a malloc'ed buffer (caller frees). */
int pd_value_to_msgpack(const struct pd_value *v, char **buf, size_t *len);

#endif
