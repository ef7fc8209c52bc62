/*
 * fuzz_trace.c — libFuzzer target: the allocation trace reader of the
 * replay workload (workloads/replay.c), through the workload contract.
 *
 * Input: the trace file's bytes (in a memfd, named by its /proc/self/fd
 * path). Checked: check_params and setup agree (both accept or both
 * refuse), a refusal is -errno with a one-line message; an accepted trace
 * replays on buddy (64 MiB of pmem, so sizes it cannot serve fail and are
 * counted) for at most 4096 calls, frees every block it allocated by
 * teardown, and leaves buddy's check() passing.
 *
 * Both trace formats go through here: replay's setup loads text traces and
 * the binary ones `mmbench record` writes (workloads/trace.c, told apart by
 * their MMBTRACE magic). The seeds hold both: text traces, an empty binary
 * one, sort.mmbt (sort(1) recorded: 291 calls, 1 thread) and
 * two-threads.mmbt (23 calls of every kind from 2 threads).
 */
#include <stdatomic.h>
#include <string.h>

#include "../../allocators/allocator.h"
#include "../../workloads/workload.h"
#include "fuzz.h"

static const struct mmb_wl_ops *fzt_wl;
static const struct mmb_alloc_ops *fzt_ops;
static struct mmb_alloc_cfg fzt_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[MMB_ERR_MAX];

	(void)argc;
	(void)argv;
	fzt_wl = mmb_wl_find("replay");
	if (!fzt_wl || mmb_alloc_parse_config("buddy:mem=64M", &fzt_ops, &fzt_cfg, err, sizeof(err))) {
		fprintf(stderr, "fuzz_trace: skipped: no replay workload or buddy allocator\n");
		exit(77);
	}
	fzt_cfg.nthreads = 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], kvs[96], err[1024] = "", err2[1024] = "";
	int fd = fuzz_file(data, size, path, sizeof(path)), rc, rc2;
	struct mmb_pvals params;
	atomic_int stop = 0;
	struct mmb_wl_thread t;
	struct mmb_alloc *a;
	void *state = NULL;

	snprintf(kvs, sizeof(kvs), "trace=%s", path);
	if (mmb_params_parse(fzt_wl->params, kvs, "workload replay", &params, err, sizeof(err)))
		fuzz_fail("trace=%s refused: %s", path, err);
	rc = fzt_wl->check_params ? fzt_wl->check_params(&params, err, sizeof(err)) : 0;
	rc2 = fzt_wl->setup(&params, 1, 1, &state, err2, sizeof(err2));
	if ((rc == 0) != (rc2 == 0))
		fuzz_fail("check_params %d '%s' but setup %d '%s'", rc, err, rc2, err2);
	if (rc2) {
		if (rc2 > 0 || !err2[0] || strchr(err2, '\n'))
			fuzz_fail("setup refused (%d) without a one-line message: '%s'", rc2, err2);
		close(fd);
		return 0;
	}
	if (fzt_ops->create(&fzt_cfg, &a, err, sizeof(err)))
		fuzz_fail("buddy: create: %s", err);
	memset(&t, 0, sizeof(t));
	t.ops = fzt_ops;
	t.a = a;
	t.nthreads = 1;
	t.stop = &stop;
	t.ops_limit = 4096;
	fzt_wl->run(state, &t);
	fzt_wl->teardown(state, &t);
	if (t.nallocs != t.nfrees || t.live_bytes)
		fuzz_fail("replay: %llu allocs, %llu frees, %lld live bytes after teardown",
			  (unsigned long long)t.nallocs, (unsigned long long)t.nfrees,
			  (long long)t.live_bytes);
	if (fzt_ops->check(a, err, sizeof(err)))
		fuzz_fail("buddy: check after the replay: %s", err);
	fzt_ops->destroy(a);
	close(fd);
	return 0;
}
