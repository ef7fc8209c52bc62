/*
 * runner.h — one program cell: the program as its own process under one
 * allocator, measured from outside.
 *
 * The parent (run.c) calls mmb_prog_run_cell instead of starting `mmbench
 * cell`. The program's process is forked here, put under the allocator
 * (launch.h), given its stdin, and exec'd; its stdout is read through a
 * pipe and hashed (FNV-1a, 48 bits), its stderr kept in
 * DIR/state/<cell>/stderr (removed when empty). While it runs, its resident
 * set is read from /proc/PID/statm every 4 ms (250 Hz asked; the
 * rss_samples_per_s column says what was had) into timeline.csv
 * (footprint_bytes = RSS; t_ns from its exec). Counters (--events and the
 * software events) are opened on its pid before its exec, inherited by its
 * threads and children, and read after it exits; wait4 gives its own
 * rusage (wall, user, system time, maxrss, faults).
 *
 * A cell is ok when the program exits with its expected status (exit=,
 * default 0) and its stdout equals the expected output: expect=FILE, or
 * with expect=first the output of the first ok cell of the same program in
 * the run (the first allocator's); failed otherwise (detail says which),
 * crashed when a signal ended it, timeout past --cell-timeout (its process
 * group is killed).
 *
 * With a driver (--driver): the program is a server. Once it accepts
 * connections on 127.0.0.1:{port}, the driver runs (plain environment, not
 * under the allocator; its stdout in DIR/state/<cell>/driver.out); when the
 * driver has exited 0, info=redis reads `INFO memory` from the server
 * (DIR/state/<cell>/redis_info.txt, fragmentation columns), then the
 * server gets SIGTERM and must exit with its expected status. Only loopback
 * is ever used.
 */
#ifndef MMB_RUNNER_H
#define MMB_RUNNER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "../plan.h"
#include "../results.h"

#define MMB_PROG_SAMPLE_NS 4000000u	/* RSS sampling interval */

/* The run's reference outputs (expect=first), one per workload config. */
struct mmb_prog_ref {
	int have;
	uint64_t checksum, bytes;
	unsigned cell;
};

struct mmb_prog_run {
	const struct mmb_plan *plan;
	const char *dir;		/* results folder */
	struct mmb_prog_ref *refs;	/* plan->nwconf of them */
	volatile sig_atomic_t *stop;	/* set by a signal: kill the program, return */
	void (*tick)(void *arg);	/* called about every 0.5 s (progress line) */
	void *tick_arg;
};

/* refs for a run (calloc'ed, plan->nwconf), from rows already finished (--resume). */
struct mmb_prog_ref *mmb_prog_refs(const struct mmb_plan *plan, const struct mmb_result *results);

/* Run cell (a program cell) and fill r; timeline rows go to tl. */
void mmb_prog_run_cell(const struct mmb_prog_run *run, const struct mmb_cell *cell,
		       struct mmb_result *r, FILE *tl);

/* Does the plan have a program cell? */
int mmb_prog_any(const struct mmb_plan *plan);

/* Append the program columns to xc: hw_<event> (counts over the whole
 * program) and, where a program has info=redis, redis_<field>. */
void mmb_prog_xcols(const struct mmb_plan *plan, struct mmb_xcols *xc);

#endif /* MMB_RUNNER_H */
