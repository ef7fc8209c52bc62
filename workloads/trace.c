/*
 * trace.c — decoding the binary allocation trace (format in trace.h).
 *
 * Load = read the whole file, decode every chunk into events (offsets are
 * checked against the file's length before each read, so a truncated or
 * foreign file is an error naming the offset, never a wild read), order
 * all events by time (ties: thread, then the thread's own order, which a
 * stable key keeps), then match lifetimes by address in that order with an
 * open-addressing table of live addresses.
 *
 * Invariants after load: events of one thread appear in the order that
 * thread made them; for a matched free, ev[i].obj == the obj of the latest
 * earlier matched allocation of the same address; obj < nobjs.
 */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Sort key: time, thread, then the event's index (decoded in file order,
 * so a thread's events keep their order). */
static int trace_cmp(const void *a, const void *b)
{
	const struct mmb_trace_event *x = a, *y = b;

	if (x->t_ns != y->t_ns)
		return x->t_ns < y->t_ns ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->obj < y->obj ? -1 : x->obj > y->obj;
}

/* A zeroed event at the end of t->ev (growing it by doubling), or NULL. */
static struct mmb_trace_event *trace_push(struct mmb_trace *t, size_t *cap)
{
	struct mmb_trace_event *e;

	if (t->nev == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		struct mmb_trace_event *ev = realloc(t->ev, ncap * sizeof(*ev));

		if (!ev)
			return NULL;
		t->ev = ev;
		*cap = ncap;
	}
	e = &t->ev[t->nev];
	memset(e, 0, sizeof(*e));
	return e;
}

static int trace_decode(const uint8_t *buf, size_t len, struct mmb_trace *t, char *msg,
			size_t msglen)
{
	size_t pos = MMB_TRACE_HEADER_BYTES, cap = 0;
	uint32_t maxthread = 0, base = 0;	/* thread numbers of the image so far */

	if (len < MMB_TRACE_HEADER_BYTES || memcmp(buf, MMB_TRACE_MAGIC, 8)) {
		snprintf(msg, msglen, "offset 0: not an mmbench binary trace (%s)",
			 len < 8 || memcmp(buf, MMB_TRACE_MAGIC, 8) ? "no MMBTRACE magic" :
								     "header truncated");
		return -EINVAL;
	}
	if (trace_le(buf + 8, 2) != MMB_TRACE_VERSION) {
		snprintf(msg, msglen, "offset 8: trace version %u not supported (this mmbench reads %u)",
			 (unsigned)trace_le(buf + 8, 2), MMB_TRACE_VERSION);
		return -EINVAL;
	}
	if (trace_le(buf + 10, 2) != MMB_TRACE_HEADER_BYTES) {
		snprintf(msg, msglen, "offset 10: header size %u (expected %u)",
			 (unsigned)trace_le(buf + 10, 2), MMB_TRACE_HEADER_BYTES);
		return -EINVAL;
	}
	t->start_ns = trace_le(buf + 16, 8);
	t->pid = (uint32_t)trace_le(buf + 24, 4);
	while (pos < len) {
		uint64_t now, addr = 0, v;
		size_t end, nrec;
		uint32_t thread;

		if (len - pos < MMB_TRACE_CHUNK_BYTES) {
			snprintf(msg, msglen, "offset %zu: truncated chunk header (%zu of %u bytes)",
				 pos, len - pos, MMB_TRACE_CHUNK_BYTES);
			return -EINVAL;
		}
		if (trace_le(buf + pos, 4) != MMB_TRACE_CHUNK_MAGIC) {
			snprintf(msg, msglen, "offset %zu: bad chunk magic", pos);
			return -EINVAL;
		}
		thread = (uint32_t)trace_le(buf + pos + 4, 4);
		end = pos + MMB_TRACE_CHUNK_BYTES + trace_le(buf + pos + 8, 4);
		nrec = trace_le(buf + pos + 12, 4);
		now = trace_le(buf + pos + 16, 8);
		if (end > len) {
			snprintf(msg, msglen, "offset %zu: truncated chunk (%zu payload bytes, %zu in the file)",
				 pos, end - pos - MMB_TRACE_CHUNK_BYTES, len - pos - MMB_TRACE_CHUNK_BYTES);
			return -EINVAL;
		}
		pos += MMB_TRACE_CHUNK_BYTES;
		if (thread == MMB_TRACE_IMAGE_THREAD) {
			struct mmb_trace_event *e;

			if (nrec || end != pos) {
				snprintf(msg, msglen, "offset %zu: image chunk with records",
					 pos - MMB_TRACE_CHUNK_BYTES);
				return -EINVAL;
			}
			e = trace_push(t, &cap);
			if (!e)
				return -ENOMEM;
			e->op = MMB_TOP_EXEC;
			e->t_ns = now - t->start_ns;
			e->obj = (uint32_t)t->nev++;
			base = maxthread;
			t->images++;
			continue;
		}
		thread += base;
		if (thread >= maxthread)
			maxthread = thread + 1;
		for (size_t r = 0; r < nrec; r++) {
			struct mmb_trace_event *e;
			size_t at = pos;
			uint8_t op;

			if (pos >= end)
				goto short_chunk;
			op = buf[pos++];
			if (!op || op >= MMB_TOP_EXEC) {
				snprintf(msg, msglen, "offset %zu: unknown operation %u", at, op);
				return -EINVAL;
			}
			e = trace_push(t, &cap);
			if (!e)
				return -ENOMEM;
			e->op = op;
			e->thread = thread;
			if (trace_varint(buf, end, &pos, &v))
				goto bad_record;
			now += v;
			e->t_ns = now - t->start_ns;
			if (trace_varint(buf, end, &pos, &v))
				goto bad_record;
			addr += (uint64_t)mmb_trace_unzigzag(v);
			e->addr = addr;
			if (mmb_trace_op_allocates(op) && trace_varint(buf, end, &pos, &e->size))
				goto bad_record;
			if (mmb_trace_op_aligned(op)) {
				if (trace_varint(buf, end, &pos, &v) || v > UINT32_MAX)
					goto bad_record;
				e->align = (uint32_t)v;
			}
			e->obj = (uint32_t)t->nev;	/* file order, for the sort */
			t->nev++;
			continue;
bad_record:
			snprintf(msg, msglen, "offset %zu: truncated or malformed %s record", at,
				 mmb_trace_op_name(op));
			return -EINVAL;
		}
		if (pos != end) {
short_chunk:
			snprintf(msg, msglen, "offset %zu: chunk holds %zu records, payload ends at %zu",
				 pos, nrec, end);
			return -EINVAL;
		}
	}
	if (t->nev > UINT32_MAX) {
		snprintf(msg, msglen, "offset %zu: more than 2^32 records", pos);
		return -EINVAL;
	}
	t->nthreads = maxthread;
	return 0;
}

/* Live addresses -> (obj, size), open addressing with tombstones. */
struct trace_slot {
	uint64_t addr;			/* 0 = empty, 1 = deleted */
	uint64_t size;
	uint32_t obj;
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

static int trace_live_grow(struct trace_live *l)
{
	struct trace_live nl = { .n = l->n ? l->n * 2 : 1024 };

	while (nl.n < 2 * l->used)
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

static int trace_match(struct mmb_trace *t)
{
	struct trace_live l = { 0 };
	uint32_t *free_objs = NULL;
	size_t nfree = 0;
	uint64_t live = 0;
	int rc = -ENOMEM;

	if (trace_live_grow(&l))
		return -ENOMEM;
	free_objs = malloc(sizeof(*free_objs) * (t->nev + 1));
	if (!free_objs)
		goto out;
	for (size_t i = 0; i < t->nev; i++) {
		struct mmb_trace_event *e = &t->ev[i];
		struct trace_slot *s;

		e->matched = 0;
		if (e->op == MMB_TOP_EXEC) {
			/* the image is gone, and every block with it */
			for (size_t j = 0; j < l.n; j++)
				if (l.s[j].addr > 1) {
					free_objs[nfree++] = l.s[j].obj;
					l.s[j].addr = 1;
					t->exec_drops++;
				}
			live = 0;
			e->matched = 1;
			continue;
		}
		t->calls[e->op]++;
		if (!mmb_trace_op_allocates(e->op)) {
			s = e->addr > 1 ? trace_live_find(&l, e->addr, 0) : NULL;
			if (!s) {
				t->unmatched_frees += e->addr != 0;
				continue;
			}
			e->obj = s->obj;
			e->size = s->size;
			e->matched = 1;
			free_objs[nfree++] = s->obj;
			live -= s->size;
			s->addr = 1;
			t->frees++;
			continue;
		}
		if (!e->addr) {
			t->failed++;
			continue;
		}
		t->hist[trace_bucket(e->size)]++;
		if (e->addr == 1)
			continue;	/* not a real block address */
		if (e->size > (1ULL << 40))
			continue;	/* cannot have succeeded as asked */
		s = trace_live_find(&l, e->addr, 1);
		if (s->addr == e->addr) {
			/* handed out again with no free between: the free was lost
			 * (the recorded program died with it unflushed) */
			t->lost_frees++;
			free_objs[nfree++] = s->obj;
			live -= s->size;
		} else {
			l.used += !s->addr;
		}
		e->obj = nfree ? free_objs[--nfree] : t->nobjs++;
		e->matched = 1;
		s->addr = e->addr;
		s->size = e->size ? e->size : 1;
		s->obj = e->obj;
		live += s->size;
		t->alloc_bytes += s->size;
		if (live > t->peak_live_bytes)
			t->peak_live_bytes = live;
		t->allocs++;
		if (2 * l.used > l.n && trace_live_grow(&l))
			goto out;
	}
	t->live_end_bytes = live;
	t->live_end = t->allocs - t->frees - t->lost_frees - t->exec_drops;
	rc = 0;
out:
	free(free_objs);
	free(l.s);
	return rc;
}

int mmb_trace_load(const char *path, struct mmb_trace *r_t, char *err, size_t errlen)
{
	char msg[200] = "";
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	memset(r_t, 0, sizeof(*r_t));
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb = realloc(buf, cap ? cap * 2 : 1 << 16);

			if (!nb) {
				fclose(f);
				free(buf);
				snprintf(err, errlen, "%s: out of memory", path);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 1 << 16;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		return rc;
	}
	rc = trace_decode(buf, len, r_t, msg, sizeof(msg));
	free(buf);
	if (!rc) {
		if (r_t->nev) {	/* qsort(NULL, 0, ...) is undefined */
			qsort(r_t->ev, r_t->nev, sizeof(*r_t->ev), trace_cmp);
			r_t->duration_ns = r_t->ev[r_t->nev - 1].t_ns;
		}
		rc = trace_match(r_t);
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (rc)
		snprintf(err, errlen, "%s: %s", path, msg);
	if (rc)
		mmb_trace_free(r_t);
	return rc;
}

void mmb_trace_free(struct mmb_trace *t)
{
	free(t->ev);
	memset(t, 0, sizeof(*t));
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
