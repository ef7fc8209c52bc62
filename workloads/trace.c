/*
 * trace.c — reading the binary allocation trace (format in trace.h) as a
 * stream, in one pass over the records.
 *
 * Read = (1) walk the chunk headers (pread of 24 bytes each) into an index:
 * each recorded thread's chunks in file order, image marks in a stream of
 * their own; every header is checked against the file's length here, so a
 * truncated or foreign file is refused before any event is delivered.
 * (2) Merge the threads' streams by time with a binary heap keyed (time,
 * stream), each stream decoding its current chunk from its own buffer
 * (one pread per chunk). A stream not yet started sits in the heap under
 * its first chunk's base time, a lower bound of its first record's (deltas
 * are unsigned), and decodes when it reaches the top. (3) Match lifetimes
 * by address in that order with an open-addressing table of live
 * addresses, and hand each event to the caller.
 *
 * Memory: the chunk index (24 bytes per chunk of up to 64 KiB), one chunk
 * buffer per stream between its first and last chunk, the live table and
 * the free object numbers (both bounded by the most objects live at once),
 * never a per-call array.
 *
 * Invariants: events of one thread arrive in the order that thread made
 * them (whatever their times say); for a matched free, obj == the obj of
 * the latest earlier matched allocation of the same address; obj < nobjs;
 * every free of a nonzero address is matched, or the read fails.
 */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

static const char *const trace_op_names[MMB_TOP_NR] = {
	[MMB_TOP_MALLOC] = "malloc",
	[MMB_TOP_CALLOC] = "calloc",
	[MMB_TOP_REALLOC] = "realloc",
	[MMB_TOP_REALLOC_FREE] = "realloc-free",
	[MMB_TOP_FREE] = "free",
	[MMB_TOP_MEMALIGN] = "memalign",
	[MMB_TOP_POSIX_MEMALIGN] = "posix_memalign",
	[MMB_TOP_ALIGNED_ALLOC] = "aligned_alloc",
	[MMB_TOP_VALLOC] = "valloc",
	[MMB_TOP_PVALLOC] = "pvalloc",
	[MMB_TOP_EXEC] = "exec",
};

const char *mmb_trace_op_name(unsigned op)
{
	return op && op < MMB_TOP_NR ? trace_op_names[op] : "?";
}

static uint64_t trace_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int mmb_trace_is_binary(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(magic, 1, sizeof(magic), f);
	fclose(f);
	return n == sizeof(magic) && !memcmp(magic, MMB_TRACE_MAGIC, sizeof(magic));
}

/* A varint at *pos, below end; 0 or -EINVAL. */
static int trace_varint(const uint8_t *buf, size_t end, size_t *pos, uint64_t *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*pos >= end)
			return -EINVAL;
		b = buf[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*r = v;
			return 0;
		}
	}
	return -EINVAL;
}


/* Chunk index entry. */
struct trace_chunk {
	uint64_t off;			/* of the chunk header */
	uint64_t base_ns;
	uint64_t first;			/* event number of its first record */
	uint32_t bytes, nrec;		/* payload */
};

/* One recorded thread's chunks (stream 0: the image marks). */
struct trace_stream {
	struct trace_chunk *ch;
	size_t nch, cap, next;		/* chunks, capacity, next to load */
	uint8_t *buf;			/* the loaded chunk's payload */
	size_t bufcap, pos, end;
	uint32_t left;			/* records of the loaded chunk not decoded */
	uint64_t now, addr, index;	/* decoder state */
	uint64_t key;			/* heap key: head event's time, or a lower bound */
	int loaded;			/* ev holds the head event */
	struct mmb_trace_event ev;
};

/* Global thread number (image base + chunk thread) -> stream. */
struct trace_tmap {
	uint64_t *key;			/* thread + 1, 0 = empty */
	uint32_t *val;
	size_t n, used;
};

struct trace_live;

struct trace_hent {
	uint64_t key;			/* the stream's key when it went in */
	uint32_t idx;			/* stream */
};

struct trace_reader {
	const char *path;
	const struct trace_live *live;	/* the matcher's table (for prefetching) */
	int fd;
	uint64_t size;
	struct trace_stream *s;
	size_t ns, scap;
	struct trace_tmap tmap;
	struct trace_hent *heap;
	size_t nheap;
	char *msg;
	size_t msglen;
	int fn_failed;			/* the caller's fn stopped the read */
};

static int trace_tmap_get(struct trace_tmap *m, uint64_t thread, uint32_t *r_val, uint32_t fresh)
{
	size_t i;

	if (2 * (m->used + 1) > m->n) {
		struct trace_tmap nm = { .n = m->n ? 2 * m->n : 64 };

		nm.key = calloc(nm.n, sizeof(*nm.key));
		nm.val = calloc(nm.n, sizeof(*nm.val));
		if (!nm.key || !nm.val) {
			free(nm.key);
			free(nm.val);
			return -ENOMEM;
		}
		for (size_t j = 0; j < m->n; j++)
			if (m->key[j]) {
				for (i = (size_t)(m->key[j] * 0x9e3779b97f4a7c15ULL >> 20) & (nm.n - 1);
				     nm.key[i]; i = (i + 1) & (nm.n - 1))
					;
				nm.key[i] = m->key[j];
				nm.val[i] = m->val[j];
			}
		nm.used = m->used;
		free(m->key);
		free(m->val);
		*m = nm;
	}
	for (i = (size_t)((thread + 1) * 0x9e3779b97f4a7c15ULL >> 20) & (m->n - 1); m->key[i];
	     i = (i + 1) & (m->n - 1))
		if (m->key[i] == thread + 1) {
			*r_val = m->val[i];
			return 0;
		}
	m->key[i] = thread + 1;
	m->val[i] = fresh;
	m->used++;
	*r_val = fresh;
	return 1;
}

static int trace_add_chunk(struct trace_stream *st, const struct trace_chunk *c)
{
	if (st->nch == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 8;
		struct trace_chunk *ch = realloc(st->ch, cap * sizeof(*ch));

		if (!ch)
			return -ENOMEM;
		st->ch = ch;
		st->cap = cap;
	}
	st->ch[st->nch++] = *c;
	return 0;
}

static int trace_pread(struct trace_reader *r, void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(r->fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (uint8_t *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Pass 1: the header and the chunk index. */
static int trace_index(struct trace_reader *r, struct mmb_trace *t)
{
	uint8_t h[MMB_TRACE_HEADER_BYTES];
	uint64_t pos = MMB_TRACE_HEADER_BYTES, events = 1;
	uint64_t base = 0, maxthread = 0;	/* global thread numbers of the image so far */
	struct stat sb;
	int rc;

	if (fstat(r->fd, &sb))
		return -errno;
	r->size = (uint64_t)sb.st_size;
	if (r->size >= 8 && (rc = trace_pread(r, h, 8, 0)))
		return rc;
	if (r->size < 8 || memcmp(h, MMB_TRACE_MAGIC, 8)) {
		snprintf(r->msg, r->msglen, "offset 0: not an mmbench binary trace (no MMBTRACE magic)");
		return -EINVAL;
	}
	if (r->size < MMB_TRACE_HEADER_BYTES) {
		snprintf(r->msg, r->msglen, "offset 0: not an mmbench binary trace (header truncated)");
		return -EINVAL;
	}
	rc = trace_pread(r, h, MMB_TRACE_HEADER_BYTES, 0);
	if (rc)
		return rc;
	if (trace_le(h + 8, 2) != MMB_TRACE_VERSION) {
		snprintf(r->msg, r->msglen,
			 "offset 8: trace version %u not supported (this mmbench reads %u)",
			 (unsigned)trace_le(h + 8, 2), MMB_TRACE_VERSION);
		return -EINVAL;
	}
	if (trace_le(h + 10, 2) != MMB_TRACE_HEADER_BYTES) {
		snprintf(r->msg, r->msglen, "offset 10: header size %u (expected %u)",
			 (unsigned)trace_le(h + 10, 2), MMB_TRACE_HEADER_BYTES);
		return -EINVAL;
	}
	t->start_ns = trace_le(h + 16, 8);
	t->pid = (uint32_t)trace_le(h + 24, 4);
	r->ns = 1;			/* stream 0: image marks */
	r->s = calloc(r->scap = 16, sizeof(*r->s));
	if (!r->s)
		return -ENOMEM;
	while (pos < r->size) {
		uint8_t c[MMB_TRACE_CHUNK_BYTES];
		struct trace_chunk ch = { .off = pos, .first = events };
		uint32_t thread, sidx;

		if (r->size - pos < MMB_TRACE_CHUNK_BYTES) {
			snprintf(r->msg, r->msglen,
				 "offset %llu, event %llu: truncated chunk header (%llu of %u bytes)",
				 (unsigned long long)pos, (unsigned long long)events,
				 (unsigned long long)(r->size - pos), MMB_TRACE_CHUNK_BYTES);
			return -EINVAL;
		}
		rc = trace_pread(r, c, sizeof(c), pos);
		if (rc)
			return rc;
		if (trace_le(c, 4) != MMB_TRACE_CHUNK_MAGIC) {
			snprintf(r->msg, r->msglen, "offset %llu, event %llu: bad chunk magic",
				 (unsigned long long)pos, (unsigned long long)events);
			return -EINVAL;
		}
		thread = (uint32_t)trace_le(c + 4, 4);
		ch.bytes = (uint32_t)trace_le(c + 8, 4);
		ch.nrec = (uint32_t)trace_le(c + 12, 4);
		ch.base_ns = trace_le(c + 16, 8);
		if (ch.bytes > r->size - pos - MMB_TRACE_CHUNK_BYTES) {
			snprintf(r->msg, r->msglen,
				 "offset %llu, event %llu: truncated chunk (%u payload bytes, %llu in the file)",
				 (unsigned long long)pos, (unsigned long long)events, ch.bytes,
				 (unsigned long long)(r->size - pos - MMB_TRACE_CHUNK_BYTES));
			return -EINVAL;
		}
		if (thread == MMB_TRACE_IMAGE_THREAD) {
			if (ch.nrec || ch.bytes) {
				snprintf(r->msg, r->msglen, "offset %llu, event %llu: image chunk with records",
					 (unsigned long long)pos, (unsigned long long)events);
				return -EINVAL;
			}
			base = maxthread;
			t->images++;
			sidx = 0;
		} else {
			uint64_t g = base + thread;

			if (g >= maxthread)
				maxthread = g + 1;
			rc = trace_tmap_get(&r->tmap, g, &sidx, (uint32_t)r->ns);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				if (r->ns == r->scap) {
					struct trace_stream *s = realloc(r->s, 2 * r->scap * sizeof(*s));

					if (!s)
						return -ENOMEM;
					memset(s + r->scap, 0, r->scap * sizeof(*s));
					r->s = s;
					r->scap *= 2;
				}
				r->ns++;
			}
		}
		if (trace_add_chunk(&r->s[sidx], &ch))
			return -ENOMEM;
		events += ch.nrec;
		pos += MMB_TRACE_CHUNK_BYTES + ch.bytes;
	}
	if (events - 1 > UINT32_MAX) {
		snprintf(r->msg, r->msglen, "offset %llu: more than 2^32 records",
			 (unsigned long long)pos);
		return -EINVAL;
	}
	t->nev = events - 1;
	t->nthreads = (uint32_t)(r->ns - 1);
	return 0;
}

/* Heap order: (key, stream). */
static int trace_before(const struct trace_hent *a, const struct trace_hent *b)
{
	return a->key != b->key ? a->key < b->key : a->idx < b->idx;
}

static void trace_heap_push(struct trace_reader *r, struct trace_hent v)
{
	size_t i = r->nheap++;

	while (i && trace_before(&v, &r->heap[(i - 1) / 2])) {
		r->heap[i] = r->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	r->heap[i] = v;
}

/* Put v at the top and sift it down: the top's place taken (a pop when v
 * is the last entry). */
static void trace_heap_sift(struct trace_reader *r, struct trace_hent v)
{
	size_t i = 0, n = r->nheap;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && trace_before(&r->heap[c + 1], &r->heap[c]))
			c++;
		if (!trace_before(&r->heap[c], &v))
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (n)
		r->heap[i] = v;
}

static void trace_live_prefetch(const struct trace_live *l, uint64_t addr);

/*
 * Decode stream si's next event into s->ev (loading chunks as needed).
 * 1: an event, 0: the stream is done, -errno with msg.
 */
static int trace_next(struct trace_reader *r, struct mmb_trace *t, uint32_t si)
{
	struct trace_stream *s = &r->s[si];
	struct mmb_trace_event *e = &s->ev;
	uint64_t v;
	size_t at;
	int rc;

	while (!s->left) {
		const struct trace_chunk *c;

		if (s->loaded && s->pos != s->end) {
			c = &s->ch[s->next - 1];
			snprintf(r->msg, r->msglen,
				 "offset %llu, event %llu: chunk holds %u records, payload ends at %llu",
				 (unsigned long long)(c->off + MMB_TRACE_CHUNK_BYTES + s->pos),
				 (unsigned long long)s->index, c->nrec,
				 (unsigned long long)(c->off + MMB_TRACE_CHUNK_BYTES + s->end));
			return -EINVAL;
		}
		if (s->next == s->nch) {
			free(s->buf);
			s->buf = NULL;
			return 0;
		}
		c = &s->ch[s->next++];
		s->loaded = 1;
		s->now = c->base_ns;
		s->addr = 0;
		s->index = c->first;
		s->pos = 0;
		s->end = c->bytes;
		s->left = c->nrec;
		if (si == 0) {		/* an image mark */
			memset(e, 0, sizeof(*e));
			e->op = MMB_TOP_EXEC;
			e->t_ns = c->base_ns - t->start_ns;
			e->index = c->first;
			s->key = e->t_ns;
			return 1;
		}
		if (c->bytes > s->bufcap) {
			uint8_t *b = realloc(s->buf, c->bytes);

			if (!b)
				return -ENOMEM;
			s->buf = b;
			s->bufcap = c->bytes;
		}
		rc = trace_pread(r, s->buf, c->bytes, c->off + MMB_TRACE_CHUNK_BYTES);
		if (rc)
			return rc;
	}
	at = s->pos;
	if (s->pos >= s->end)
		goto short_chunk;
	/* the next records' bytes: this stream is read again only after the
	 * other streams' turns, by which time its buffer has left the cache */
	__builtin_prefetch(s->buf + (s->pos + 256 < s->end ? s->pos + 256 : s->pos));
	e->op = s->buf[s->pos++];
	e->thread = si - 1;
	e->index = s->index++;
	e->align = 0;
	e->size = 0;
	s->left--;
	if (!e->op || e->op >= MMB_TOP_EXEC) {
		snprintf(r->msg, r->msglen, "offset %llu, event %llu: unknown operation %u",
			 (unsigned long long)(s->ch[s->next - 1].off + MMB_TRACE_CHUNK_BYTES + at),
			 (unsigned long long)e->index, e->op);
		return -EINVAL;
	}
	if (trace_varint(s->buf, s->end, &s->pos, &v))
		goto bad_record;
	s->now += v;
	e->t_ns = s->now - t->start_ns;
	if (trace_varint(s->buf, s->end, &s->pos, &v))
		goto bad_record;
	s->addr += (uint64_t)mmb_trace_unzigzag(v);
	e->addr = s->addr;
	trace_live_prefetch(r->live, e->addr);
	if (mmb_trace_op_allocates(e->op) && trace_varint(s->buf, s->end, &s->pos, &e->size))
		goto bad_record;
	if (mmb_trace_op_aligned(e->op)) {
		if (trace_varint(s->buf, s->end, &s->pos, &v) || v > UINT32_MAX)
			goto bad_record;
		e->align = (uint32_t)v;
	}
	s->key = e->t_ns;
	return 1;
bad_record:
	snprintf(r->msg, r->msglen, "offset %llu, event %llu: truncated or malformed %s record",
		 (unsigned long long)(s->ch[s->next - 1].off + MMB_TRACE_CHUNK_BYTES + at),
		 (unsigned long long)e->index, mmb_trace_op_name(e->op));
	return -EINVAL;
short_chunk:
	snprintf(r->msg, r->msglen,
		 "offset %llu, event %llu: chunk holds %u records, payload ends at %llu",
		 (unsigned long long)(s->ch[s->next - 1].off + MMB_TRACE_CHUNK_BYTES + at),
		 (unsigned long long)s->index, s->ch[s->next - 1].nrec,
		 (unsigned long long)(s->ch[s->next - 1].off + MMB_TRACE_CHUNK_BYTES + s->end));
	return -EINVAL;
}

/* Live addresses -> (obj, size, thread), open addressing with tombstones:
 * all a lookup needs in one slot, one cache miss (the slot is prefetched
 * when the event is decoded). */
struct trace_slot {
	uint64_t addr;			/* 0 = empty, 1 = deleted */
	uint64_t size;
	uint32_t obj, thread;
};

struct trace_live {
	struct trace_slot *s;
	size_t n, used;			/* capacity (power of two), live + tombstones */
};

static size_t trace_hash(uint64_t a, size_t n)
{
	return (size_t)((a * 0x9e3779b97f4a7c15ULL) >> 20) & (n - 1);
}

static struct trace_slot *trace_live_find(struct trace_live *l, uint64_t addr, int insert)
{
	struct trace_slot *tomb = NULL;

	for (size_t i = trace_hash(addr, l->n);; i = (i + 1) & (l->n - 1)) {
		struct trace_slot *s = &l->s[i];

		if (s->addr == addr)
			return s;
		if (s->addr == 1 && !tomb)
			tomb = s;
		if (!s->addr)
			return insert ? (tomb ? tomb : s) : NULL;
	}
}

/* The slot a lookup of addr starts at, on its way into the cache: the
 * event is matched later, when its stream reaches the top of the heap. */
static void trace_live_prefetch(const struct trace_live *l, uint64_t addr)
{
	if (l && l->s)
		__builtin_prefetch(&l->s[trace_hash(addr, l->n)]);
}

/* Rehash into a table sized for the live entries (tombstones dropped). */
static int trace_live_grow(struct trace_live *l, size_t live)
{
	struct trace_live nl = { .n = 1024 };

	while (nl.n < 4 * live)
		nl.n *= 2;
	nl.s = calloc(nl.n, sizeof(*nl.s));
	if (!nl.s)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (l->s[i].addr > 1) {
			*trace_live_find(&nl, l->s[i].addr, 1) = l->s[i];
			nl.used++;
		}
	free(l->s);
	*l = nl;
	return 0;
}

static unsigned trace_bucket(uint64_t size)
{
	unsigned b = size ? 64 - (unsigned)__builtin_clzll(size) : 0;

	return b < MMB_TRACE_HIST_BUCKETS ? b : MMB_TRACE_HIST_BUCKETS - 1;
}

struct trace_match {
	struct trace_live l;
	uint32_t *free_objs;		/* closed object numbers, reused last-in first-out */
	size_t nfree, free_cap;
	uint64_t live, nlive;
};

static int trace_free_obj(struct trace_match *m, uint32_t obj)
{
	if (m->nfree == m->free_cap) {
		size_t cap = m->free_cap ? 2 * m->free_cap : 1024;
		uint32_t *f = realloc(m->free_objs, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		m->free_objs = f;
		m->free_cap = cap;
	}
	m->free_objs[m->nfree++] = obj;
	return 0;
}

/* Match one event (the lifetime rules of trace.h); 0, -EINVAL with msg, -ENOMEM. */
static int trace_match_one(struct trace_reader *r, struct trace_match *m, struct mmb_trace *t,
			   struct mmb_trace_event *e)
{
	struct trace_slot *s;

	e->matched = 0;
	e->replaces = 0;
	if (e->op == MMB_TOP_EXEC) {
		/* the image is gone, and every block with it */
		for (size_t j = 0; j < m->l.n; j++)
			if (m->l.s[j].addr > 1) {
				if (trace_free_obj(m, m->l.s[j].obj))
					return -ENOMEM;
				m->l.s[j].addr = 1;
				t->exec_drops++;
			}
		m->live = 0;
		m->nlive = 0;
		e->matched = 1;
		return 0;
	}
	t->calls[e->op]++;
	if (!mmb_trace_op_allocates(e->op)) {
		if (!e->addr)
			return 0;	/* free(NULL): nothing */
		s = e->addr > 1 ? trace_live_find(&m->l, e->addr, 0) : NULL;
		if (!s) {
			snprintf(r->msg, r->msglen,
				 "event %llu: %s of %#llx, which the trace never allocated (or freed already)",
				 (unsigned long long)e->index, mmb_trace_op_name(e->op),
				 (unsigned long long)e->addr);
			return -EINVAL;
		}
		e->obj = s->obj;
		e->size = s->size;
		e->alloc_thread = s->thread;
		e->matched = 1;
		if (trace_free_obj(m, s->obj))
			return -ENOMEM;
		m->live -= e->size;
		m->nlive--;
		s->addr = 1;
		t->frees++;
		t->xthread_frees += s->thread != e->thread;
		return 0;
	}
	if (!e->addr) {
		t->failed++;
		return 0;
	}
	t->hist[trace_bucket(e->size)]++;
	if (e->addr == 1 || e->size > (1ULL << 40))
		return 0;	/* not a real block address, or cannot have succeeded as asked */
	s = trace_live_find(&m->l, e->addr, 1);
	if (s->addr == e->addr) {
		/* handed out again with no free between: the free was lost (the
		 * recorded program died with it unflushed); the object ends and
		 * its number is taken again right away */
		t->lost_frees++;
		e->replaces = 1;
		m->live -= s->size;
		m->nlive--;
		e->obj = s->obj;
	} else {
		m->l.used += !s->addr;
		e->obj = m->nfree ? m->free_objs[--m->nfree] : t->nobjs++;
	}
	e->matched = 1;
	s->addr = e->addr;
	s->size = e->size ? e->size : 1;
	s->obj = e->obj;
	s->thread = e->thread;
	m->live += s->size;
	m->nlive++;
	t->alloc_bytes += s->size;
	if (m->live > t->peak_live_bytes)
		t->peak_live_bytes = m->live;
	t->allocs++;
	if (2 * m->l.used > m->l.n && trace_live_grow(&m->l, m->nlive))
		return -ENOMEM;
	return 0;
}

static int trace_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Most threads between their first and last call at once (a sweep). */
static int trace_threads_at_once(struct mmb_trace *t)
{
	uint64_t *b = malloc(2 * (size_t)t->nthreads * sizeof(*b));
	uint32_t now = 0;

	if (!b)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->nthreads; i++) {
		b[2 * i] = t->threads[i].first_ns << 1 | 0;	/* starts before ends at a tie */
		b[2 * i + 1] = t->threads[i].last_ns << 1 | 1;
	}
	qsort(b, 2 * (size_t)t->nthreads, sizeof(*b), trace_cmp_u64);
	for (size_t i = 0; i < 2 * (size_t)t->nthreads; i++) {
		now = b[i] & 1 ? now - 1 : now + 1;
		if (now > t->threads_at_once)
			t->threads_at_once = now;
	}
	free(b);
	return 0;
}

static int trace_merge(struct trace_reader *r, struct mmb_trace *t, mmb_trace_fn fn, void *arg)
{
	struct trace_match m = { 0 };
	uint32_t cur = UINT32_MAX;
	int rc;

	r->heap = malloc(r->ns * sizeof(*r->heap));
	t->threads = calloc(t->nthreads + 1, sizeof(*t->threads));
	if (!r->heap || !t->threads || trace_live_grow(&m.l, 0)) {
		rc = -ENOMEM;
		goto out;
	}
	r->live = &m.l;
	for (uint32_t i = 0; i < r->ns; i++)
		if (r->s[i].nch) {
			r->s[i].key = r->s[i].ch[0].base_ns - t->start_ns;
			trace_heap_push(r, (struct trace_hent){ r->s[i].key, i });
		}
	for (;;) {
		struct trace_stream *s;

		if (cur == UINT32_MAX) {
			if (!r->nheap)
				break;
			cur = r->heap[0].idx;
			trace_heap_sift(r, r->heap[--r->nheap]);
		} else if (r->nheap) {
			struct trace_hent c = { r->s[cur].key, cur };

			if (trace_before(&r->heap[0], &c)) {
				cur = r->heap[0].idx;
				trace_heap_sift(r, c);
			}
		}
		s = &r->s[cur];
		if (!s->loaded) {
			/* its key was a lower bound: decode, and take its place again */
			rc = trace_next(r, t, cur);
			if (rc < 0)
				goto out;
			if (!rc)
				cur = UINT32_MAX;
			continue;
		}
		rc = trace_match_one(r, &m, t, &s->ev);
		if (rc)
			goto out;
		if (s->ev.op != MMB_TOP_EXEC) {
			struct mmb_trace_thread *th = &t->threads[s->ev.thread];

			if (!th->calls++)
				th->first_ns = s->ev.t_ns;
			th->last_ns = s->ev.t_ns;
		}
		if (s->ev.t_ns > t->duration_ns)
			t->duration_ns = s->ev.t_ns;
		if (fn && (rc = fn(arg, &s->ev))) {
			r->fn_failed = 1;
			goto out;
		}
		rc = trace_next(r, t, cur);
		if (rc < 0)
			goto out;
		if (!rc)
			cur = UINT32_MAX;
	}
	t->live_end_bytes = m.live;
	t->live_end = m.nlive;
	rc = trace_threads_at_once(t);
out:
	r->live = NULL;
	free(m.l.s);
	free(m.free_objs);
	return rc;
}

/* Open path and index its chunks into r_t (both readers start here). */
static int trace_open(struct trace_reader *r, struct mmb_trace *r_t)
{
	memset(r_t, 0, sizeof(*r_t));
	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	return trace_index(r, r_t);
}

/* Close the file, free the reader's buffers and, for a failure, say why in
 * err (unless fn stopped the read: it said why itself). Returns rc. */
static int trace_close(struct trace_reader *r, int rc, char *err, size_t errlen)
{
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->ns; i++) {
		free(r->s[i].ch);
		free(r->s[i].buf);
	}
	free(r->s);
	free(r->heap);
	free(r->tmap.key);
	free(r->tmap.val);
	if (!rc || r->fn_failed)
		return rc;
	if (r->fd < 0)
		snprintf(err, errlen, "%s: %s", r->path, strerror(-rc));
	else if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", r->path);
	else if (r->msg[0])
		snprintf(err, errlen, "%s: %s", r->path, r->msg);
	else
		snprintf(err, errlen, "%s: read error: %s", r->path, strerror(-rc));
	return rc;
}

int mmb_trace_read(const char *path, struct mmb_trace *r_t, mmb_trace_fn fn, void *arg,
		   char *err, size_t errlen)
{
	char msg[200] = "";
	struct trace_reader r = { .path = path, .msg = msg, .msglen = sizeof(msg) };
	int rc = trace_open(&r, r_t);

	if (!rc)
		rc = trace_merge(&r, r_t, fn, arg);
	return trace_close(&r, rc, err, errlen);
}

int mmb_trace_threads(const char *path, struct mmb_trace *r_t, char *err, size_t errlen)
{
	char msg[200] = "";
	struct trace_reader r = { .path = path, .msg = msg, .msglen = sizeof(msg) };
	int rc = trace_open(&r, r_t);

	if (!rc) {
		r_t->threads = calloc(r_t->nthreads + 1, sizeof(*r_t->threads));
		if (!r_t->threads)
			rc = -ENOMEM;
	}
	for (size_t i = 1; !rc && i < r.ns; i++) {
		const struct trace_stream *st = &r.s[i];
		struct mmb_trace_thread *th = &r_t->threads[i - 1];

		th->first_ns = st->ch[0].base_ns - r_t->start_ns;
		th->last_ns = st->ch[st->nch - 1].base_ns - r_t->start_ns;
		for (size_t c = 0; c < st->nch; c++)
			th->calls += st->ch[c].nrec;
	}
	return trace_close(&r, rc, err, errlen);
}

void mmb_trace_free(struct mmb_trace *t)
{
	free(t->threads);
	t->threads = NULL;
}

int mmb_trace_count(const char *path, uint64_t *r_records, uint32_t *r_threads, char *err,
		    size_t errlen)
{
	uint8_t h[MMB_TRACE_CHUNK_BYTES];
	uint64_t off = MMB_TRACE_HEADER_BYTES, size;
	uint32_t base = 0;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	*r_records = 0;
	*r_threads = 0;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	fseek(f, 0, SEEK_END);
	size = (uint64_t)ftell(f);
	rewind(f);
	if (fread(h, 1, 8, f) != 8 || memcmp(h, MMB_TRACE_MAGIC, 8)) {
		snprintf(err, errlen, "%s: offset 0: not an mmbench binary trace", path);
		fclose(f);
		return -EINVAL;
	}
	while (!rc && off < size) {
		uint64_t end;

		if (fseek(f, (long)off, SEEK_SET) || fread(h, 1, sizeof(h), f) != sizeof(h) ||
		    trace_le(h, 4) != MMB_TRACE_CHUNK_MAGIC) {
			snprintf(err, errlen, "%s: offset %llu: truncated chunk header or bad magic",
				 path, (unsigned long long)off);
			rc = -EINVAL;
			break;
		}
		end = off + MMB_TRACE_CHUNK_BYTES + trace_le(h + 8, 4);
		if (end > size) {
			snprintf(err, errlen, "%s: offset %llu: truncated chunk", path,
				 (unsigned long long)off);
			rc = -EINVAL;
			break;
		}
		*r_records += trace_le(h + 12, 4);
		if (trace_le(h + 4, 4) == MMB_TRACE_IMAGE_THREAD)
			base = *r_threads;
		else if (base + trace_le(h + 4, 4) >= *r_threads)
			*r_threads = base + (uint32_t)trace_le(h + 4, 4) + 1;
		off = end;
	}
	fclose(f);
	return rc;
}
