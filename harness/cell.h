/*
 * cell.h — one cell, run in its own process (`mmbench cell`, internal).
 *
 * The parent (run.c) forks and execs `mmbench cell` with the cell's
 * allocator spec, workload spec, threads, seed and limits, and a pipe on
 * --result-fd. The child runs the cell and writes one record on the pipe:
 *
 *	status ok|failed
 *	detail <text>			(optional, one line)
 *	m <metric name> <value>		(one per measured metric)
 *	provider <path>			(optional: library that served the blocks)
 *	end
 *
 * A record without "end" means the cell died; the parent then records the
 * signal or exit status instead. Exit status: 0 when a record was written.
 */
#ifndef MMB_CELL_H
#define MMB_CELL_H

int mmb_cell_main(int argc, char **argv);

#endif /* MMB_CELL_H */
