/*
 * list.c — `mmbench list allocators|workloads|suites [-v]`.
 *
 * -v prints each entry's option or parameter table: name, type, default,
 * bounds or choices, and help.
 */
#include "list.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../allocators/allocator.h"
#include "../workloads/workload.h"
#include "suite.h"
#include "util.h"

static const char list_usage[] =
	"usage: mmbench list allocators|workloads|suites [-v]\n"
	"  -v, --verbose   also print each entry's options / parameters\n";

static const char *const type_names[] = { "int", "size", "float", "on|off", "enum", "text" };

static void list_params(const struct mmb_param *tab)
{
	for (const struct mmb_param *q = tab; q && q->name; q++) {
		char range[96] = "";

		if (q->type == MMB_P_U64 || q->type == MMB_P_SIZE)
			snprintf(range, sizeof(range), "[%.0f, %.0f]", q->min, q->max);
		else if (q->type == MMB_P_F64)
			snprintf(range, sizeof(range), "[%g, %g]", q->min, q->max);
		else if (q->type == MMB_P_ENUM)
			snprintf(range, sizeof(range), "%s", q->choices);
		printf("    %-16s %-6s default %-10s %-22s %s\n", q->name, type_names[q->type], q->def,
		       range, q->help);
	}
}

int mmb_list_main(int argc, char **argv)
{
	int verbose = 0;
	const char *what = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(list_usage, stdout);
			return 0;
		} else if (!what && argv[i][0] != '-') {
			what = argv[i];
		} else {
			mmb_err("list: unexpected argument '%s' (see mmbench list --help)", argv[i]);
			return MMB_EXIT_USAGE;
		}
	}
	if (!what) {
		mmb_err("list: say what to list: allocators, workloads or suites");
		return MMB_EXIT_USAGE;
	}
	if (!strcmp(what, "allocators")) {
		for (size_t i = 0; i < mmb_nallocators; i++) {
			const struct mmb_alloc_ops *o = mmb_allocators[i];
			const char *why = NULL;

			if (o->hidden)
				continue;
			if (o->supported && o->supported(&why))
				printf("%-16s %s (unavailable here: %s)\n", o->name, o->desc, why);
			else
				printf("%-16s %s\n", o->name, o->desc);
			if (verbose)
				list_params(o->opts);
		}
		return 0;
	}
	if (!strcmp(what, "workloads")) {
		for (size_t i = 0; i < mmb_nworkloads; i++) {
			const struct mmb_wl_ops *o = mmb_workloads[i];

			if (o->hidden)
				continue;
			printf("%-16s %s\n", o->name, o->desc);
			if (verbose)
				list_params(o->params);
		}
		return 0;
	}
	if (!strcmp(what, "suites"))
		return mmb_suite_list(verbose);
	mmb_err("list: unknown kind '%s' (valid: allocators workloads suites)", what);
	return MMB_EXIT_USAGE;
}
