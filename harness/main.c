/*
 * main.c — the mmbench command line: dispatch to subcommands.
 *
 *   mmbench run ...		run a matrix of cells (run.c)
 *   mmbench list ...		list allocators, workloads, suites (list.c)
 *   mmbench bench ...		micro-benchmarks, side by side (bench.c)
 *   mmbench exec ...		a command on the malloc shim (exec.c)
 *   mmbench record ...		a command under the trace recorder (exec.c)
 *   mmbench trace-info ...	a binary trace's summary (exec.c)
 *   mmbench plot|report|export DIR	figures, report, mimalloc-bench lines (plot.c, report.c)
 *   mmbench compare A B		is B better than A, and is it real (compare.c)
 *   mmbench merge DIR		a Slurm run's shards into one folder (slurm/merge.c)
 *   mmbench cell ...		internal: one cell in its own process (cell.c)
 *   mmbench slurm-task DIR K	internal: one Slurm array task (slurm/task.c)
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cell.h"
#include "compare.h"
#include "exec.h"
#include "list.h"
#include "plot.h"
#include "report.h"
#include "run.h"
#include "slurm/slurm.h"
#include "util.h"

static const char main_usage[] =
	"usage: mmbench [--version] [--help] COMMAND [ARGS]\n"
	"\n"
	"An instrumented memory-allocator benchmark harness.\n"
	"\n"
	"commands:\n"
	"  run      run allocators x workloads x threads and write a results folder\n"
	"  list     list allocators, workloads or suites\n"
	"  bench    micro-benchmarks with ratios against the targets, side by side\n"
	"  exec     run a program on the kernel-style allocators (malloc shim)\n"
	"  record   record a program's malloc calls into a binary trace\n"
	"  trace-info  summarize a binary trace\n"
	"  plot     draw a results folder's figures with gnuplot (PNG and SVG)\n"
	"  report   write report.md and a self-contained report.html for a results folder\n"
	"  compare  compare two runs (or configurations within one) with significance\n"
	"  export   write a results folder's cells in another tool's format\n"
	"  merge    merge the shards of a Slurm run (`run --slurm`) into its results folder\n"
	"\n"
	"`mmbench COMMAND --help` describes each command.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(main_usage, stderr);
		return MMB_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("mmbench %s\n", MMB_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		return mmb_run_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return mmb_list_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bench"))
		return mmb_bench_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "exec"))
		return mmb_exec_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "record"))
		return mmb_record_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "trace-info"))
		return mmb_trace_info_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "plot"))
		return mmb_plot_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return mmb_report_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "compare"))
		return mmb_compare_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return mmb_export_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "merge"))
		return mmb_merge_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "slurm-task"))
		return mmb_slurm_task_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "cell"))
		return mmb_cell_main(argc - 1, argv + 1);
	mmb_err("unknown command '%s' (valid: run list bench plot report compare export merge exec record trace-info; see mmbench --help)", argv[1]);
	return MMB_EXIT_USAGE;
}
