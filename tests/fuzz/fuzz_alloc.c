/*
 * fuzz_alloc.c — libFuzzer target: random alloc/free sequences through the
 * allocator contract (allocator.h) of any registered allocator, checked
 * against a model and ->check().
 *
 * Which allocator: MMB_FUZZ_ALLOC, one or more configs separated by ';'
 * ("slab:mem=16M;slab:mem=16M,harden=on"); the input's first byte picks
 * one. Default "buddy:mem=16M". An allocator this build lacks, or one that
 * cannot run here, ends the run with exit status 77 before any input
 * (scripts/fuzz.sh counts it as skipped).
 *
 * Input after the first byte: one op per byte with its arguments: alloc
 * (size classes from 1 byte to 1 MiB, align 0 or 2^0..2^12), free of a live
 * block (sized free, the size asked for), check, stats.
 *
 * The model: the live blocks. Each block must be aligned to its align and
 * to min(8, size rounded up to a power of two), have usable_size >= size,
 * overlap no live block, and keep the bytes written at its start and end
 * until it is freed. check() must pass after the ops and after freeing
 * everything; stats' allocs/frees, where reported, must count the calls.
 */
#include <string.h>

#include "../../allocators/allocator.h"
#include "fuzz.h"

#define FZA_MAX_BLOCKS 1024
#define FZA_MAX_CONFIGS 8

struct fza_block {
	char *p;
	size_t size;
	uint8_t tag;
};

static const struct mmb_alloc_ops *fza_ops[FZA_MAX_CONFIGS];
static struct mmb_alloc_cfg fza_cfg[FZA_MAX_CONFIGS];
static char fza_spec[FZA_MAX_CONFIGS][256];
static unsigned fza_nconfigs;
static struct fza_block fza_blk[FZA_MAX_BLOCKS];
static unsigned fza_nblk;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("MMB_FUZZ_ALLOC");
	char list[2048], *save = NULL;

	(void)argc;
	(void)argv;
	snprintf(list, sizeof(list), "%s", env && *env ? env : "buddy:mem=16M");
	for (char *s = strtok_r(list, ";", &save); s && fza_nconfigs < FZA_MAX_CONFIGS;
	     s = strtok_r(NULL, ";", &save)) {
		unsigned i = fza_nconfigs;
		const char *why = NULL;
		char err[MMB_ERR_MAX] = "";
		struct mmb_alloc *a;

		if (mmb_alloc_parse_config(s, &fza_ops[i], &fza_cfg[i], err, sizeof(err))) {
			fprintf(stderr, "fuzz_alloc: skipped: %s\n", err);
			exit(77);
		}
		if (fza_ops[i]->supported && fza_ops[i]->supported(&why)) {
			fprintf(stderr, "fuzz_alloc: skipped: %s unavailable here: %s\n", s, why);
			exit(77);
		}
		fza_cfg[i].nthreads = 1;
		if (fza_ops[i]->create(&fza_cfg[i], &a, err, sizeof(err))) {
			fprintf(stderr, "fuzz_alloc: skipped: %s: create: %s\n", s, err);
			exit(77);
		}
		fza_ops[i]->destroy(a);
		snprintf(fza_spec[i], sizeof(fza_spec[i]), "%s", s);
		fza_nconfigs++;
	}
	if (!fza_nconfigs) {
		fprintf(stderr, "fuzz_alloc: skipped: MMB_FUZZ_ALLOC names no config\n");
		exit(77);
	}
	fprintf(stderr, "fuzz_alloc: %u config(s), first %s\n", fza_nconfigs, fza_spec[0]);
	return 0;
}

static void fza_check(const struct mmb_alloc_ops *ops, struct mmb_alloc *a, const char *spec,
		      const char *when)
{
	char err[MMB_ERR_MAX] = "";

	if (ops->check && ops->check(a, err, sizeof(err)))
		fuzz_fail("%s: check after %s: %s", spec, when, err);
}

/* Sizes over the classes allocators care about: tiny, kmalloc, pages, big. */
static size_t fza_size(unsigned k, unsigned v)
{
	switch (k & 3) {
	case 0: return 1 + v % 64;
	case 1: return 1 + v * 17 % 4096;
	case 2: return 4096 * (1 + v % 16) - (v & 1) * (v % 97);
	default: return ((size_t)1 + v % 256) << 12;
	}
}

static void fza_fill(const struct fza_block *k)
{
	size_t n = k->size < 16 ? k->size : 16;

	memset(k->p, k->tag, n);
	memset(k->p + k->size - n, k->tag, n);
}

static void fza_verify(const struct fza_block *k, const char *spec)
{
	size_t n = k->size < 16 ? k->size : 16;

	for (size_t i = 0; i < n; i++)
		if ((uint8_t)k->p[i] != k->tag || (uint8_t)k->p[k->size - n + i] != k->tag)
			fuzz_fail("%s: block %p of %zu bytes was overwritten while live", spec,
				  (void *)k->p, k->size);
}

/* Returns 1 when the block was freed at once (the model is full). */
static int fza_alloc(const struct mmb_alloc_ops *ops, struct mmb_alloc *a, const char *spec,
		     size_t size, size_t align)
{
	char *p = ops->alloc(a, size, align);
	size_t minal = 1;
	struct fza_block *k;

	if (!p)
		return 0;	/* out of memory is allowed; check() still runs */
	while (minal < size && minal < 8)
		minal <<= 1;
	if ((uintptr_t)p % (align > minal ? align : minal))
		fuzz_fail("%s: alloc(%zu, %zu) = %p is misaligned", spec, size, align, (void *)p);
	if (ops->usable_size && ops->usable_size(a, p) < size)
		fuzz_fail("%s: usable_size(%p) = %zu < %zu", spec, (void *)p, ops->usable_size(a, p),
			  size);
	for (unsigned i = 0; i < fza_nblk; i++)
		if (p < fza_blk[i].p + fza_blk[i].size && fza_blk[i].p < p + size)
			fuzz_fail("%s: alloc(%zu) = %p overlaps live block %p of %zu bytes", spec, size,
				  (void *)p, (void *)fza_blk[i].p, fza_blk[i].size);
	if (fza_nblk == FZA_MAX_BLOCKS) {
		ops->free(a, p, size);
		return 1;
	}
	k = &fza_blk[fza_nblk++];
	*k = (struct fza_block){ p, size, (uint8_t)(fza_nblk * 37 + 1) };
	fza_fill(k);
	return 0;
}

static void fza_free(const struct mmb_alloc_ops *ops, struct mmb_alloc *a, const char *spec,
		     unsigned i)
{
	struct fza_block *k = &fza_blk[i];

	fza_verify(k, spec);
	ops->free(a, k->p, k->size);
	*k = fza_blk[--fza_nblk];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned ci = fuzz_u8(&in) % fza_nconfigs, nops = 0, nchecks = 0;
	const struct mmb_alloc_ops *ops = fza_ops[ci];
	const char *spec = fza_spec[ci];
	uint64_t allocs = 0, frees = 0;
	struct mmb_alloc_stats st;
	char err[MMB_ERR_MAX] = "";
	struct mmb_alloc *a;

	if (ops->create(&fza_cfg[ci], &a, err, sizeof(err)))
		fuzz_fail("%s: create: %s", spec, err);
	if (ops->thread_attach)
		ops->thread_attach(a);
	fza_nblk = 0;
	while (in.n && nops++ < 2000) {
		unsigned op = fuzz_u8(&in);

		switch (op & 3) {
		case 0:
		case 1: {
			size_t sz = fza_size(op >> 2, fuzz_u16(&in));
			unsigned al = fuzz_u8(&in);

			frees += (uint64_t)fza_alloc(ops, a, spec, sz,
						     al & 0x80 ? (size_t)1 << (al % 13) : 0);
			allocs++;
			break;
		}
		case 2:
			if (fza_nblk) {
				fza_free(ops, a, spec, fuzz_u16(&in) % fza_nblk);
				frees++;
			}
			break;
		default:
			if ((op & 4) && nchecks++ < 8) {	/* check() is slow: keep inputs fast */
				fza_check(ops, a, spec, "ops");
			} else if (ops->stats) {
				mmb_alloc_stats_init(&st);
				ops->stats(a, &st);
			}
			break;
		}
	}
	fza_check(ops, a, spec, "the last op");
	while (fza_nblk) {
		fza_free(ops, a, spec, fza_nblk - 1);
		frees++;
	}
	fza_check(ops, a, spec, "freeing everything");
	if (ops->stats) {
		mmb_alloc_stats_init(&st);
		ops->stats(a, &st);
		if (st.frees != MMB_STAT_NONE && st.frees != frees)
			fuzz_fail("%s: stats say %llu frees, %llu were made", spec,
				  (unsigned long long)st.frees, (unsigned long long)frees);
		if (st.allocs != MMB_STAT_NONE && st.failed_allocs != MMB_STAT_NONE &&
		    st.allocs + st.failed_allocs != allocs)
			fuzz_fail("%s: stats say %llu allocs + %llu failed, %llu were made", spec,
				  (unsigned long long)st.allocs, (unsigned long long)st.failed_allocs,
				  (unsigned long long)allocs);
	}
	if (ops->thread_detach)
		ops->thread_detach(a);
	ops->destroy(a);
	return 0;
}
