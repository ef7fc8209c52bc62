/*
 * plan.c — parsing `mmbench run` and expanding the plan (plan.h).
 */
#include "plan.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "programs/launch.h"
#include "programs/program.h"
#include "suite.h"
#include "util.h"

const char mmb_run_usage[] =
	"usage: mmbench run [-a ALLOC[,ALLOC...]] [-w WORKLOAD[,...]] [-t THREADS[,...]]\n"
	"                   [-r REPS] [-p KEY=VALUE]... [--ops N | --duration SECONDS]\n"
	"                   [--seed N] [-o DIR] [--cell-timeout SECONDS] [--dump-state]\n"
	"                   [--check] [--faults MODE [--fault-cpu N] [--fault-log N]] [-q]\n"
	"                   [--suite NAME] [OPTION...]\n"
	"       mmbench run --resume DIR [--slurm [--wait]]\n"
	"\n"
	"Runs every cell of (allocator config x workload x threads x repetition), each in\n"
	"its own process, and writes a results folder: meta.json, cells.csv, latency.csv,\n"
	"timeline.csv; faults.csv with --faults; state/<cell>/ with --dump-state or\n"
	"--faults (README.md, Results layout).\n"
	"\n"
	"  -a, --allocator LIST   allocator configs, NAME or NAME:key=value,key=value\n"
	"                         (default: every allocator; see `mmbench list allocators`)\n"
	"  -w, --workload LIST    workloads, NAME or NAME:key=value,... (default: all)\n"
	"  -t, --threads LIST     worker thread counts, e.g. 1,2; cores and pus name the\n"
	"                         topology's counts (default: cores)\n"
	"  -r, --reps N           repetitions of every cell (default: 1)\n"
	"  -p, --param KEY=VALUE  workload parameter, for every chosen workload that has it\n"
	"      --ops N            allocator calls per thread in the timed region\n"
	"      --duration SECONDS length of the timed region (default: 0.5); with\n"
	"                         --op-equivalent, a time-out (cells.csv incomplete)\n"
	"      --op-equivalent    every allocator runs the same seeded --ops sequence\n"
	"                         to its end, with exact memory accounting; refused\n"
	"                         for workloads whose state depends on timing\n"
	"      --accounting MODE  exact: usable_size() per call, exact internal_frag\n"
	"                         (costs throughput; `mmbench bench harness`); off\n"
	"                         (default, unless --op-equivalent)\n"
	"      --seed N           base seed (default: 42); recorded in meta.json\n"
	"  -o, --output DIR       results folder; must not exist or be empty\n"
	"                         (default: results/<UTC time>-<id>)\n"
	"      --cell-timeout S   kill a cell after S seconds, status timeout (default: 60)\n"
	"      --dump-state       write each allocator's state files to DIR/state/<cell>/\n"
	"      --check            run the allocator's invariant check after each cell\n"
	"      --faults MODE      page-fault counting: off (default: a timing run), uffd\n"
	"                         (userfaultfd, handler thread), sigbus (userfaultfd,\n"
	"                         resolved in the faulting thread), auto (uffd where it\n"
	"                         works, else kernel counts only); a fault census: its\n"
	"                         latencies include fault handling. In a suite, per group\n"
	"                         of cells (cells.csv fault_census tells them apart)\n"
	"      --fault-cpu N      pin the uffd handler thread to CPU N\n"
	"      --fault-log N      keep each cell's first N fault events in\n"
	"                         DIR/state/<cell>/faults.log\n"
	MMB_MEASURE_USAGE
	"      --programs-from FILE  program definitions (README.md, Programs as cells);\n"
	"                         each runs as a cell on every allocator, or those -w\n"
	"                         prog:NAME names; -w 'prog:COMMAND ARG...' runs one inline\n"
	"  -q, --quiet            no progress or summary, only the folder's path\n"
	"      --suite NAME       run the named suite (`mmbench list suites`); the\n"
	"                         options given here override the suite's, and -w\n"
	"                         adds a group (README.md, Suites)\n"
	"      --slurm            submit the cells to Slurm instead of running them here:\n"
	"                         a job array (each task a whole node) and a merge job\n"
	"                         (README.md, Running on a cluster); with it:\n"
	"      --slurm-opt OPTS    more sbatch options for both jobs (partition, time)\n"
	"      --slurm-pack       tasks share nodes (no --exclusive)\n"
	"      --cells-per-task N cells per array task (default: 1)\n"
	"      --wait             wait for the merge and print the summary\n"
	"  -h, --help             this text\n"
	"\n"
	"In a LIST, a token with '=' and no ':' continues the previous config:\n"
	"  -a glibc:arena_max=1,tcache_count=0,glibc   is two configs.\n";

uint64_t mmb_plan_rep_seed(uint64_t base, unsigned rep)
{
	uint64_t x = base ^ ((uint64_t)rep * 0xd1b54a32d192ed03ULL);

	return mmb_splitmix64(&x);
}

int mmb_split_specs(const char *list, char specs[][MMB_SPEC_MAX], int max)
{
	char buf[4096], *save = NULL;
	int n = 0;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strchr(tok, '=') && !strchr(tok, ':') && n > 0) {
			size_t len = strlen(specs[n - 1]);

			if (len + 1 + strlen(tok) >= MMB_SPEC_MAX)
				return -EINVAL;
			snprintf(specs[n - 1] + len, MMB_SPEC_MAX - len, ",%s", tok);
			continue;
		}
		if (n == max)
			return -EINVAL;
		snprintf(specs[n++], MMB_SPEC_MAX, "%s", tok);
	}
	return n;
}

/* spec = "name" or "name:opts" (MMB_SPEC_MAX bytes). */
static void plan_spec(char *spec, const char *name, const char *opts)
{
	char buf[MMB_SPEC_MAX];

	snprintf(buf, sizeof(buf), "%s%s%s", name, opts[0] ? ":" : "", opts);
	memcpy(spec, buf, sizeof(buf));
}

/* Add (or find) an allocator config; its index goes to *r_idx. */
static int plan_add_alloc(struct mmb_plan *p, const char *spec, int prog, unsigned *r_idx,
			  char *err, size_t errlen)
{
	struct mmb_aconf *ac;

	if (p->naconf == MMB_PLAN_MAX_CONFIGS) {
		snprintf(err, errlen, "too many allocator configs (at most %d)", MMB_PLAN_MAX_CONFIGS);
		return -EINVAL;
	}
	ac = &p->aconf[p->naconf];
	if (prog) {	/* a program's allocator: launch.h parses and checks it */
		if (mmb_launch_parse(spec, ac, err, errlen))
			return -EINVAL;
		for (unsigned i = 0; i < p->naconf; i++)
			if (p->aconf[i].prog && strcmp(p->aconf[i].spec, ac->spec) == 0) {
				*r_idx = i;
				return 0;
			}
		*r_idx = p->naconf++;
		return 0;
	}
	if (mmb_alloc_parse_config(spec, &ac->ops, &ac->cfg, err, errlen))
		return -EINVAL;
	mmb_params_format(&ac->cfg.opts, 1, ac->config, sizeof(ac->config));
	plan_spec(ac->spec, ac->ops->name, ac->config);
	for (unsigned i = 0; i < p->naconf; i++)
		if (!p->aconf[i].prog && strcmp(p->aconf[i].spec, ac->spec) == 0) {
			*r_idx = i;	/* the same config twice is one config */
			return 0;
		}
	if (ac->ops->supported) {
		const char *why = "unsupported";

		if (ac->ops->supported(&why)) {
			snprintf(err, errlen, "allocator %s cannot run here: %s", ac->ops->name, why);
			return -EINVAL;
		}
	}
	if (ac->ops->validate && ac->ops->validate(&ac->cfg, err, errlen))
		return -EINVAL;
	*r_idx = p->naconf++;
	return 0;
}

static void wl_names(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < mmb_nworkloads && off < len; i++)
		if (!mmb_workloads[i]->hidden)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? " " : "",
						mmb_workloads[i]->name);
}

/* -p values: one list, applied in order. */
static int plan_apply_pv(struct mmb_wconf *wc, char **pv, int npv, const char *what, char *err,
			 size_t errlen)
{
	for (int i = 0; i < npv; i++) {
		char key[128];
		const char *eq = strchr(pv[i], '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - pv[i]), pv[i]);
		if (mmb_params_set(&wc->params, key, eq + 1, what, err, errlen) == -EINVAL)
			return -EINVAL;
	}
	return 0;
}

/*
 * Add (or find) a workload config; its index goes to *r_idx. pv_first apply
 * before the spec's own values, pv_last after them.
 */
static int plan_add_workload(struct mmb_plan *p, const char *spec, char **pv_first, int nfirst,
			     char **pv_last, int nlast, unsigned *r_idx, char *err, size_t errlen)
{
	char name[64], what[96];
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	struct mmb_wconf *wc;

	if (p->nwconf == MMB_PLAN_MAX_CONFIGS) {
		snprintf(err, errlen, "too many workload configs (at most %d)", MMB_PLAN_MAX_CONFIGS);
		return -EINVAL;
	}
	wc = &p->wconf[p->nwconf];
	snprintf(name, sizeof(name), "%.*s", (int)(nlen < sizeof(name) ? nlen : 0), spec);
	wc->ops = mmb_wl_find(name);
	if (!wc->ops) {
		char names[512];

		wl_names(names, sizeof(names));
		snprintf(err, errlen, "unknown workload '%s' (valid: %s)", name, names);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "workload %s", name);
	if (mmb_params_parse(wc->ops->params, NULL, what, &wc->params, err, errlen))
		return -EINVAL;
	/* -p first, then the workload's own spec, which is more specific. */
	if (plan_apply_pv(wc, pv_first, nfirst, what, err, errlen))
		return -EINVAL;
	if (colon && colon[1]) {
		struct mmb_pvals spec_vals;

		if (mmb_params_parse(wc->ops->params, colon + 1, what, &spec_vals, err, errlen))
			return -EINVAL;
		for (int i = 0; i < mmb_params_count(wc->ops->params); i++)
			if (spec_vals.v[i].given)
				wc->params.v[i] = spec_vals.v[i];
	}
	if (plan_apply_pv(wc, pv_last, nlast, what, err, errlen))
		return -EINVAL;
	if (wc->ops->check_params && wc->ops->check_params(&wc->params, err, errlen))
		return -EINVAL;
	mmb_params_format(&wc->params, 0, wc->params_text, sizeof(wc->params_text));
	plan_spec(wc->spec, wc->ops->name, wc->params_text);
	for (unsigned i = 0; i < p->nwconf; i++)
		if (strcmp(p->wconf[i].spec, wc->spec) == 0) {
			*r_idx = i;
			return 0;
		}
	*r_idx = p->nwconf++;
	return 0;
}

/* A program as the workload of a cell; its index goes to *r_idx. */
static int plan_add_program(struct mmb_plan *p, const struct mmb_prog *prog, unsigned *r_idx,
			    char *err, size_t errlen)
{
	struct mmb_wconf *wc;

	for (unsigned i = 0; i < p->nwconf; i++)
		if (p->wconf[i].prog == prog) {
			*r_idx = i;
			return 0;
		}
	if (p->nwconf == MMB_PLAN_MAX_CONFIGS) {
		snprintf(err, errlen, "too many workload configs (at most %d)", MMB_PLAN_MAX_CONFIGS);
		return -EINVAL;
	}
	wc = &p->wconf[p->nwconf];
	memset(wc, 0, sizeof(*wc));
	wc->ops = &prog->wl;
	wc->prog = prog;
	snprintf(wc->params_text, sizeof(wc->params_text), "%s", prog->text);
	snprintf(wc->spec, sizeof(wc->spec), "prog:%s", prog->name);
	*r_idx = p->nwconf++;
	return 0;
}

/* The plan's program slot for one more definition (NULL: full, err set). */
static struct mmb_prog *plan_prog_slot(struct mmb_plan *p, char *err, size_t errlen)
{
	if (!p->progs)
		p->progs = calloc(MMB_PLAN_MAX_CONFIGS, sizeof(*p->progs));
	if (!p->progs || p->nprogs == MMB_PLAN_MAX_CONFIGS) {
		snprintf(err, errlen, p->progs ? "too many programs (at most %d)" : "out of memory",
			 MMB_PLAN_MAX_CONFIGS);
		return NULL;
	}
	return &p->progs[p->nprogs];
}

/* Take the program just parsed into the slot: a name already defined is an error. */
static int plan_prog_commit(struct mmb_plan *p, char *err, size_t errlen)
{
	struct mmb_prog *np = &p->progs[p->nprogs];

	for (unsigned i = 0; i < p->nprogs; i++)
		if (!strcmp(p->progs[i].name, np->name)) {
			snprintf(err, errlen, "program %s defined twice", np->name);
			mmb_prog_free(np);
			return -EINVAL;
		}
	p->nprogs++;
	return 0;
}

/* -w prog:NAME (defined) or prog:COMMAND ARG... (inline) -> *r_prog. */
static int plan_prog_ref(struct mmb_plan *p, const char *what, struct mmb_prog **r_prog,
			 char *err, size_t errlen)
{
	struct mmb_prog *np;

	for (unsigned i = 0; i < p->nprogs; i++)
		if (!strcmp(p->progs[i].name, what)) {
			*r_prog = &p->progs[i];
			return 0;
		}
	np = plan_prog_slot(p, err, errlen);
	if (!np)
		return -EINVAL;
	if (mmb_prog_parse_inline(np, what, err, errlen))
		return -EINVAL;
	/* "prog:sort -k2" after a defined "sort": the inline one is refused */
	if (plan_prog_commit(p, err, errlen))
		return -EINVAL;
	*r_prog = np;
	return 0;
}

/* Every -p key must be known to at least one workload of the plan. */
static int plan_check_params(struct mmb_plan *p, char **pv, int npv, char *err, size_t errlen)
{
	for (int i = 0; i < npv; i++) {
		char key[128];
		const char *eq = strchr(pv[i], '=');
		int known = 0;

		snprintf(key, sizeof(key), "%.*s", (int)(eq - pv[i]), pv[i]);
		for (unsigned w = 0; w < p->nwconf && !known; w++)
			for (const struct mmb_param *q = p->wconf[w].ops->params; q && q->name; q++)
				if (strcmp(q->name, key) == 0)
					known = 1;
		if (!known) {
			snprintf(err, errlen, "-p %s: no chosen workload has a parameter '%s' "
				 "(see `mmbench list workloads -v`)", pv[i], key);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *r)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(d) || d < lo || d > hi)
		return -EINVAL;
	*r = d;
	return 0;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *r)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*r = v;
	return 0;
}

enum {
	OPT_OPS = 256, OPT_DURATION, OPT_SEED, OPT_CELL_TIMEOUT, OPT_DUMP_STATE, OPT_CHECK, OPT_SUITE,
	OPT_FAULTS, OPT_FAULT_CPU, OPT_FAULT_LOG, OPT_PROGRAMS_FROM, OPT_OP_EQUIVALENT,
	OPT_ACCOUNTING
};

static const struct option run_longopts[] = {
	{ "allocator", required_argument, NULL, 'a' },
	{ "workload", required_argument, NULL, 'w' },
	{ "threads", required_argument, NULL, 't' },
	{ "reps", required_argument, NULL, 'r' },
	{ "param", required_argument, NULL, 'p' },
	{ "output", required_argument, NULL, 'o' },
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "op-equivalent", no_argument, NULL, OPT_OP_EQUIVALENT },
	{ "accounting", required_argument, NULL, OPT_ACCOUNTING },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "cell-timeout", required_argument, NULL, OPT_CELL_TIMEOUT },
	{ "dump-state", no_argument, NULL, OPT_DUMP_STATE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "suite", required_argument, NULL, OPT_SUITE },
	{ "faults", required_argument, NULL, OPT_FAULTS },
	{ "fault-cpu", required_argument, NULL, OPT_FAULT_CPU },
	{ "fault-log", required_argument, NULL, OPT_FAULT_LOG },
	{ "programs-from", required_argument, NULL, OPT_PROGRAMS_FROM },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	MMB_MEASURE_LONGOPTS
	{ 0 },
};

#define MAX_LIST_ARGS 32

/* One level of `run` options: the command line, or one line of a suite. */
struct plan_args {
	char *alists[MAX_LIST_ARGS], *wlists[MAX_LIST_ARGS], *pv[MAX_LIST_ARGS];
	int nal, nwl, npv;
	unsigned threads[MMB_PLAN_MAX_THREADS], nthreads;	/* 0 = not given */
	uint64_t ops, seed;
	double duration_s, cell_timeout_s;
	unsigned reps;
	int have_ops, have_duration, have_seed, have_reps, have_timeout;
	int op_equivalent, accounting;	/* accounting: -1 not given, 0 off, 1 exact */
	int dump_state, check, quiet, help;
	const char *outdir, *suite, *programs_from;
	enum mmb_fault_mode faults;
	int fault_cpu;
	unsigned fault_log;
	int have_faults, have_fault_cpu, have_fault_log;
	int mcode[MAX_LIST_ARGS];	/* measurement options (measure.h), in order */
	char *marg[MAX_LIST_ARGS];
	int nm;
};

/* Parse argv (argv[0] is a name) into a. in_suite refuses command-line-only options. */
static int plan_getopt(int argc, char **argv, struct plan_args *a, int in_suite, char *err,
		       size_t errlen)
{
	uint64_t u;
	int c;

	memset(a, 0, sizeof(*a));
	a->accounting = -1;
	opterr = 0;
	optind = 0;		/* GNU: full reinitialization, so we may be called again */
	while ((c = getopt_long(argc, argv, "+:a:w:t:r:p:o:qh", run_longopts, NULL)) != -1) {
		if (in_suite && (c == 'o' || c == 'q' || c == 'h' || c == OPT_SUITE ||
				 c == OPT_PROGRAMS_FROM)) {
			snprintf(err, errlen, "option '%s' is for the command line, not a suite file",
				 argv[optind - 1]);
			return -EINVAL;
		}
		switch (c) {
		case 'a':
		case 'w':
		case 'p': {
			char **list = c == 'a' ? a->alists : c == 'w' ? a->wlists : a->pv;
			int *n = c == 'a' ? &a->nal : c == 'w' ? &a->nwl : &a->npv;

			if (*n == MAX_LIST_ARGS) {
				snprintf(err, errlen, "too many -%c options", c);
				return -EINVAL;
			}
			if (c == 'p' && (!strchr(optarg, '=') || optarg[0] == '=')) {
				snprintf(err, errlen, "-p '%s': expected KEY=VALUE", optarg);
				return -EINVAL;
			}
			list[(*n)++] = optarg;
			break;
		}
		case 't': {
			char buf[512], *save = NULL;

			a->nthreads = 0;
			snprintf(buf, sizeof(buf), "%s", optarg);
			for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				int named = !strcmp(tok, "cores") || !strcmp(tok, "pus");

				if (a->nthreads == MMB_PLAN_MAX_THREADS ||
				    (!named && parse_u64(tok, 1, 1024, &u))) {
					snprintf(err, errlen, "-t %s: expected thread counts 1..1024, "
						 "cores or pus, at most %d of them", optarg,
						 MMB_PLAN_MAX_THREADS);
					return -EINVAL;
				}
				if (named)
					u = tok[0] == 'c' ? MMB_THREADS_CORES : MMB_THREADS_PUS;
				a->threads[a->nthreads++] = (unsigned)u;
			}
			if (!a->nthreads) {
				snprintf(err, errlen, "-t: empty thread list");
				return -EINVAL;
			}
			break;
		}
		case 'r':
			if (parse_u64(optarg, 1, 10000, &u)) {
				snprintf(err, errlen, "-r %s: expected a repetition count 1..10000", optarg);
				return -EINVAL;
			}
			a->reps = (unsigned)u;
			a->have_reps = 1;
			break;
		case 'o':
			a->outdir = optarg;
			break;
		case OPT_OPS:
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &a->ops)) {
				snprintf(err, errlen, "--ops %s: expected a positive integer", optarg);
				return -EINVAL;
			}
			a->have_ops = 1;
			break;
		case OPT_DURATION:
			if (parse_double(optarg, 0.001, 86400, &a->duration_s)) {
				snprintf(err, errlen, "--duration %s: expected seconds in [0.001, 86400]", optarg);
				return -EINVAL;
			}
			a->have_duration = 1;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &a->seed)) {
				snprintf(err, errlen, "--seed %s: expected a non-negative integer", optarg);
				return -EINVAL;
			}
			a->have_seed = 1;
			break;
		case OPT_OP_EQUIVALENT:
			a->op_equivalent = 1;
			break;
		case OPT_ACCOUNTING:
			if (strcmp(optarg, "exact") && strcmp(optarg, "off")) {
				snprintf(err, errlen, "--accounting %s: expected exact or off", optarg);
				return -EINVAL;
			}
			a->accounting = !strcmp(optarg, "exact");
			break;
		case OPT_CELL_TIMEOUT:
			if (parse_double(optarg, 0.1, 86400 * 7, &a->cell_timeout_s)) {
				snprintf(err, errlen, "--cell-timeout %s: expected seconds in [0.1, 604800]", optarg);
				return -EINVAL;
			}
			a->have_timeout = 1;
			break;
		case OPT_DUMP_STATE:
			a->dump_state = 1;
			break;
		case OPT_CHECK:
			a->check = 1;
			break;
		case OPT_SUITE:
			if (a->suite) {	/* one plan per run: never drop the first silently */
				snprintf(err, errlen, "--suite %s: only one --suite per run (already "
					 "--suite %s; run them one after the other)", optarg, a->suite);
				return -EINVAL;
			}
			a->suite = optarg;
			break;
		case OPT_PROGRAMS_FROM:
			a->programs_from = optarg;
			break;
		case OPT_FAULTS:
			if (mmb_fault_mode_parse(optarg, &a->faults)) {
				snprintf(err, errlen, "--faults %s: expected off, uffd, sigbus or auto", optarg);
				return -EINVAL;
			}
			a->have_faults = 1;
			break;
		case OPT_FAULT_CPU: {
			long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

			if (parse_u64(optarg, 0, ncpu > 0 ? (uint64_t)ncpu - 1 : 0, &u)) {
				snprintf(err, errlen, "--fault-cpu %s: expected a CPU number 0..%ld", optarg,
					 ncpu - 1);
				return -EINVAL;
			}
			a->fault_cpu = (int)u;
			a->have_fault_cpu = 1;
			break;
		}
		case OPT_FAULT_LOG:
			if (parse_u64(optarg, 1, 1u << 24, &u)) {
				snprintf(err, errlen, "--fault-log %s: expected an event count 1..16777216", optarg);
				return -EINVAL;
			}
			a->fault_log = (unsigned)u;
			a->have_fault_log = 1;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'h':
			a->help = 1;
			return 0;
		case ':':
			snprintf(err, errlen, "run: option '%s' needs a value (see mmbench run --help)",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			if (c >= MMB_MEASURE_OPT_FIRST && c < MMB_MEASURE_OPT_END) {
				struct mmb_measure check;	/* validate now, apply in order later */

				mmb_measure_defaults(&check);
				if (a->nm == MAX_LIST_ARGS) {
					snprintf(err, errlen, "too many measurement options");
					return -EINVAL;
				}
				if (mmb_measure_option(&check, c, optarg, err, errlen))
					return -EINVAL;
				a->mcode[a->nm] = c;
				a->marg[a->nm++] = optarg;
				break;
			}
			snprintf(err, errlen, "run: unknown option '%s' (see mmbench run --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "run: unexpected argument '%s' (see mmbench run --help)", argv[optind]);
		return -EINVAL;
	}
	if (a->have_ops && a->have_duration && !a->op_equivalent) {
		snprintf(err, errlen, "run: give --ops or --duration, not both (with --op-equivalent, "
			 "--duration is the time-out of the --ops sequence)");
		return -EINVAL;
	}
	return 0;
}

/* Plan-wide values given at this level replace the plan's. */
static void plan_apply_scalars(struct mmb_plan *p, const struct plan_args *a)
{
	if (a->have_ops) {
		p->ops = a->ops;
		p->duration_s = 0;
	}
	if (a->have_duration) {
		p->duration_s = a->duration_s;
		if (!a->have_ops)
			p->ops = 0;
	}
	p->op_equivalent |= a->op_equivalent;
	if (a->accounting >= 0)
		p->accounting = a->accounting;
	if (a->have_reps)
		p->reps = a->reps;
	if (a->have_seed)
		p->seed = a->seed;
	if (a->have_timeout)
		p->cell_timeout_s = a->cell_timeout_s;
	p->dump_state |= a->dump_state;
	p->check |= a->check;
	if (a->have_fault_cpu)
		p->fault_cpu = a->fault_cpu;
	if (a->have_fault_log)
		p->fault_log = a->fault_log;
	for (int k = 0; k < a->nm; k++) {
		char err[MMB_ERR_MAX];

		mmb_measure_option(&p->measure, a->mcode[k], a->marg[k], err, sizeof(err));
	}
}

/* One group of cells: workloads x thread counts x allocators. */
struct plan_group {
	unsigned ai[MMB_PLAN_MAX_CONFIGS], wi[MMB_PLAN_MAX_CONFIGS];
	unsigned na, nw;
	const unsigned *threads;
	unsigned nthreads;
};

/* What a group is made of, before it is resolved against the registries. */
struct plan_group_src {
	char **alists, **wlists;	/* NULL: every allocator / workload */
	int nal, nwl;
	char **pv_first, **pv_last;	/* -p before / after the workload's own spec */
	int nfirst, nlast;
	const unsigned *threads;
	unsigned nthreads;
	int optional_ok;		/* suite: '?NAME' allocators may be missing */
	const char *where;		/* "FILE:LINE" of the -a, for notes */
	char *noted;			/* " name name " already noted (4096 bytes) */
	const struct mmb_prog *prog;	/* a program's group: this program, wlists unused */
};

/* Without -t (command line or suite): one worker per physical core, as
 * hwloc counts them (mmb_measure_threads resolves it; 1 if it cannot). */
static const unsigned plan_default_threads[1] = { MMB_THREADS_CORES };

/* Skip an optional allocator that is missing here? 1 = skipped (noted once). */
static int plan_skip_optional(const char *spec, const struct plan_group_src *src, int quiet)
{
	char name[64], key[72];
	size_t len = strlen(src->noted);
	const struct mmb_alloc_ops *ops;
	const char *why = NULL;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec, ":"), spec);
	ops = mmb_alloc_find(name);
	if (ops && src->prog && !mmb_launch_capable(ops))
		why = "it cannot run a program";
	else if (ops && !(ops->supported && ops->supported(&why)))
		return 0;
	snprintf(key, sizeof(key), " %s ", name);
	if (strstr(src->noted, key))
		return 1;
	if (len + strlen(key) < 4096)
		snprintf(src->noted + len, 4096 - len, "%s", key + (len ? 1 : 0));
	if (!quiet)
		mmb_err("note: %s: skipping optional allocator '%s': %s", src->where, name,
			ops ? why : "not in this build");
	return 1;
}

static int plan_group_add(struct mmb_plan *p, const struct plan_group_src *src,
			  struct plan_group *g, char *err, size_t errlen)
{
	static char specs[MMB_PLAN_MAX_CONFIGS][MMB_SPEC_MAX];

	memset(g, 0, sizeof(*g));
	g->threads = src->threads;
	g->nthreads = src->nthreads;
	if (!src->alists) {
		for (size_t i = 0; i < mmb_nallocators; i++) {
			const struct mmb_alloc_ops *o = mmb_allocators[i];
			const char *why;

			if (o->supported && o->supported(&why))
				continue;	/* the default is what can run here */
			if (src->prog && !mmb_launch_capable(o))
				continue;
			if (!o->hidden &&
			    plan_add_alloc(p, o->name, !!src->prog, &g->ai[g->na++], err, errlen))
				return -EINVAL;
		}
	}
	for (int l = 0; l < src->nal; l++) {
		int n = mmb_split_specs(src->alists[l], specs, MMB_PLAN_MAX_CONFIGS);

		if (n <= 0) {
			/* Quote the start only: the reason must fit the line. */
			snprintf(err, errlen, "-a '%.60s%s': expected ALLOC[:k=v,...][,ALLOC...], "
				 "at most %d of them, each under %d characters", src->alists[l],
				 strlen(src->alists[l]) > 60 ? "..." : "", MMB_PLAN_MAX_CONFIGS,
				 MMB_SPEC_MAX);
			return -EINVAL;
		}
		for (int i = 0; i < n; i++) {
			const char *spec = specs[i];

			if (spec[0] == '?') {
				if (!src->optional_ok) {
					snprintf(err, errlen, "-a '%s': '?' (optional) is for suite files",
						 spec);
					return -EINVAL;
				}
				if (plan_skip_optional(++spec, src, p->quiet))
					continue;
			}
			if (g->na == MMB_PLAN_MAX_CONFIGS) {
				snprintf(err, errlen, "too many allocator configs (at most %d)",
					 MMB_PLAN_MAX_CONFIGS);
				return -EINVAL;
			}
			if (plan_add_alloc(p, spec, !!src->prog, &g->ai[g->na++], err, errlen))
				return -EINVAL;
		}
	}
	if (src->prog)
		return plan_add_program(p, src->prog, &g->wi[g->nw++], err, errlen);
	if (!src->wlists) {
		for (size_t i = 0; i < mmb_nworkloads; i++)
			if (!mmb_workloads[i]->hidden &&
			    plan_add_workload(p, mmb_workloads[i]->name, src->pv_first, src->nfirst,
					      src->pv_last, src->nlast, &g->wi[g->nw++], err, errlen))
				return -EINVAL;
	}
	for (int l = 0; l < src->nwl; l++) {
		int n = mmb_split_specs(src->wlists[l], specs, MMB_PLAN_MAX_CONFIGS);

		if (n <= 0) {
			/* Quote the start only: the reason must fit the line. */
			snprintf(err, errlen, "-w '%.60s%s': expected WORKLOAD[:k=v,...][,WORKLOAD...], "
				 "at most %d of them, each under %d characters", src->wlists[l],
				 strlen(src->wlists[l]) > 60 ? "..." : "", MMB_PLAN_MAX_CONFIGS,
				 MMB_SPEC_MAX);
			return -EINVAL;
		}
		for (int i = 0; i < n; i++) {
			if (g->nw == MMB_PLAN_MAX_CONFIGS) {
				snprintf(err, errlen, "too many workload configs (at most %d)",
					 MMB_PLAN_MAX_CONFIGS);
				return -EINVAL;
			}
			if (plan_add_workload(p, specs[i], src->pv_first, src->nfirst, src->pv_last,
					      src->nlast, &g->wi[g->nw++], err, errlen))
				return -EINVAL;
		}
	}
	return 0;
}

/* "FILE:LINE: " in front of err. */
static void plan_where(char *err, size_t errlen, const char *path, unsigned lineno)
{
	char msg[MMB_ERR_MAX];

	snprintf(msg, sizeof(msg), "%s", err);
	snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
}

#define PLAN_MAX_GROUPS MMB_SUITE_MAX_LINES

struct plan_parse {			/* everything mmb_plan_parse works with */
	struct plan_args cl;
	struct mmb_suite suite;
	struct plan_args line[MMB_SUITE_MAX_LINES];
	struct plan_group group[PLAN_MAX_GROUPS];
	char *def_pv[MAX_LIST_ARGS * 4];	/* the suite's default -p, all lines */
	unsigned ngroups;
	char noted[4096];		/* optional allocators already noted as skipped */
};

/* Split -w lists: one that starts with "prog:" is a program (the whole list,
 * commas and spaces included), the others workloads. */
static void plan_split_wlists(char **wl, int nwl, char **r_wl, int *r_nwl, char **r_pw, int *r_npw)
{
	*r_nwl = *r_npw = 0;
	for (int i = 0; i < nwl; i++) {
		if (!strncmp(wl[i], "prog:", 5))
			r_pw[(*r_npw)++] = wl[i] + 5;
		else
			r_wl[(*r_nwl)++] = wl[i];
	}
}

/* One group of cells: prog on ga's allocators (NULL: every one that can run
 * a program). where_a: the -a's "FILE:LINE" for notes; where_g: the group's. */
static int plan_prog_group(struct mmb_plan *p, struct plan_parse *pp, const struct mmb_prog *prog,
			   const struct plan_args *ga, int optional_ok, const char *where_a,
			   const char *where_g, char *err, size_t errlen)
{
	struct plan_group_src src = { 0 };
	struct mmb_fault_group *fg;

	if (pp->ngroups == PLAN_MAX_GROUPS) {
		snprintf(err, errlen, "too many groups of cells (at most %d)", PLAN_MAX_GROUPS);
		return -EINVAL;
	}
	fg = &p->fgroups[pp->ngroups];
	fg->requested = fg->mode = MMB_FAULTS_OFF;	/* a program is measured from outside */
	snprintf(fg->where, sizeof(fg->where), "%.250s", where_g);
	src.alists = ga && ga->nal ? (char **)ga->alists : NULL;
	src.nal = ga ? ga->nal : 0;
	src.threads = &prog->threads;
	src.nthreads = 1;
	src.optional_ok = optional_ok;
	src.where = where_a;
	src.noted = pp->noted;
	src.prog = prog;
	p->nfgroups = pp->ngroups + 1;
	return plan_group_add(p, &src, &pp->group[pp->ngroups++], err, errlen);
}

/* --programs-from FILE: its programs into p->progs; returns the first index
 * or -EINVAL, and the count in *r_n. */
static int plan_programs_from(struct mmb_plan *p, const char *file, unsigned *r_n, char *err,
			      size_t errlen)
{
	int n;
	unsigned first = p->nprogs;

	if (!plan_prog_slot(p, err, errlen))
		return -EINVAL;
	n = mmb_prog_load_file(file, p->progs + first, MMB_PLAN_MAX_CONFIGS - first, err, errlen);
	if (n < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; k < first; k++)
			if (!strcmp(p->progs[k].name, p->progs[first + i].name)) {
				snprintf(err, errlen, "%s: program %s defined twice", file,
					 p->progs[k].name);
				for (int j = 0; j < n; j++)
					mmb_prog_free(&p->progs[first + j]);
				return -EINVAL;
			}
	p->nprogs += (unsigned)n;
	*r_n = (unsigned)n;
	return (int)first;
}

/* Program groups of one -w level: its prog: lists, else (from_n > 0) every
 * program of --programs-from. */
static int plan_prog_groups(struct mmb_plan *p, struct plan_parse *pp, char **pw, int npw,
			    int from_first, unsigned from_n, const struct plan_args *ga,
			    int optional_ok, const char *where_a, const char *where_g, char *err,
			    size_t errlen)
{
	for (int k = 0; k < npw; k++) {
		struct mmb_prog *prog;

		if (plan_prog_ref(p, pw[k], &prog, err, errlen) ||
		    plan_prog_group(p, pp, prog, ga, optional_ok, where_a, where_g, err, errlen))
			return -EINVAL;
	}
	for (unsigned k = 0; !npw && k < from_n; k++)
		if (plan_prog_group(p, pp, &p->progs[from_first + (int)k], ga, optional_ok, where_a,
				    where_g, err, errlen))
			return -EINVAL;
	return 0;
}

/* Is suite line i a program line ("prog NAME ...")? */
static int plan_is_prog_line(const struct mmb_suite *s, unsigned i)
{
	return s->lines[i].argc >= 2 && !strcmp(s->lines[i].argv[1], "prog");
}

/* A suite's program line: defined and made a group; a program that is not
 * installed is skipped with a note. */
static int plan_suite_prog(struct mmb_plan *p, struct plan_parse *pp, unsigned i,
			   const struct plan_args *ga, const char *where_a, char *err, size_t errlen)
{
	const struct mmb_suite *s = &pp->suite;
	char here[4096], *slash, where[4200];
	struct mmb_prog *np = plan_prog_slot(p, err, errlen);
	int rc;

	if (!np)
		return -EINVAL;
	if (!realpath(s->path, here))
		snprintf(here, sizeof(here), "%s", s->path);
	slash = strrchr(here, '/');
	if (slash)
		*slash = 0;
	snprintf(where, sizeof(where), "%.200s:%u", s->path, s->lines[i].lineno);
	rc = mmb_prog_parse(np, s->lines[i].argc - 2, s->lines[i].argv + 2, here, err, errlen);
	if (rc == -ENOENT) {
		if (!p->quiet)
			mmb_err("note: %s: skipping %s", where, err);
		return 0;
	}
	if (rc || plan_prog_commit(p, err, errlen) ||
	    plan_prog_group(p, pp, np, ga, 1, where_a, where, err, errlen))
		return -EINVAL;
	return 0;
}

/* Groups from the suite's lines with -w (defaults from the lines without). */
static int plan_suite_groups(struct mmb_plan *p, struct plan_parse *pp, char *err, size_t errlen)
{
	struct plan_args *def_a = NULL;
	const struct plan_args *def_t = NULL, *def_f = NULL;
	char *pv_first[MAX_LIST_ARGS * 5];
	int ndef_pv = 0, from_first = 0;
	unsigned from_n = 0;
	const struct mmb_suite *s = &pp->suite;

	for (unsigned i = 0; i < s->nlines; i++) {
		struct plan_args *a = &pp->line[i];

		if (plan_is_prog_line(s, i)) {
			memset(a, 0, sizeof(*a));
			continue;
		}
		if (plan_getopt(s->lines[i].argc, s->lines[i].argv, a, 1, err, errlen)) {
			plan_where(err, errlen, s->path, s->lines[i].lineno);
			return -EINVAL;
		}
		plan_apply_scalars(p, a);
		if (a->nwl)
			continue;
		if (a->nal)
			def_a = a;
		if (a->nthreads)
			def_t = a;
		if (a->have_faults)
			def_f = a;
		if (ndef_pv + a->npv > (int)(sizeof(pp->def_pv) / sizeof(pp->def_pv[0]))) {
			snprintf(err, errlen, "%s:%u: too many -p options", s->path, s->lines[i].lineno);
			return -EINVAL;
		}
		for (int k = 0; k < a->npv; k++)
			pp->def_pv[ndef_pv++] = a->pv[k];
	}
	plan_apply_scalars(p, &pp->cl);
	if (pp->cl.programs_from) {
		from_first = plan_programs_from(p, pp->cl.programs_from, &from_n, err, errlen);
		if (from_first < 0)
			return -EINVAL;
	}
	for (unsigned i = 0; i <= s->nlines; i++) {
		struct plan_args *a = i < s->nlines ? &pp->line[i] : &pp->cl;
		struct plan_args *ga = pp->cl.nal ? &pp->cl : a->nal ? a : def_a;
		const struct plan_args *gt = pp->cl.nthreads ? &pp->cl : a->nthreads ? a : def_t;
		const struct plan_args *gf = pp->cl.have_faults ? &pp->cl : a->have_faults ? a : def_f;
		struct mmb_fault_group *fg;
		struct plan_group_src src = { 0 };
		char where[4200] = "", gwhere[4200];
		char *wl[MAX_LIST_ARGS], *pw[MAX_LIST_ARGS];
		int nfirst = 0, nwl, npw;

		if (ga && ga != &pp->cl)
			snprintf(where, sizeof(where), "%s:%u", s->path,
				 s->lines[ga - pp->line].lineno);
		if (i < s->nlines && plan_is_prog_line(s, i)) {
			if (plan_suite_prog(p, pp, i, ga, where, err, errlen)) {
				plan_where(err, errlen, s->path, s->lines[i].lineno);
				return -EINVAL;
			}
			continue;
		}
		plan_split_wlists(a->wlists, a->nwl, wl, &nwl, pw, &npw);
		if (i < s->nlines)
			snprintf(gwhere, sizeof(gwhere), "%.200s:%u", s->path, s->lines[i].lineno);
		else
			snprintf(gwhere, sizeof(gwhere), "command line");
		if (plan_prog_groups(p, pp, pw, npw, from_first,
				     i == s->nlines && !npw ? from_n : 0, ga, ga != &pp->cl, where,
				     gwhere, err, errlen)) {
			if (i < s->nlines)
				plan_where(err, errlen, s->path, s->lines[i].lineno);
			return -EINVAL;
		}
		if (!nwl)
			continue;
		fg = &p->fgroups[pp->ngroups];
		if (pp->ngroups == PLAN_MAX_GROUPS) {
			snprintf(err, errlen, "too many groups of cells (at most %d)", PLAN_MAX_GROUPS);
			return -EINVAL;
		}
		for (int k = 0; k < ndef_pv; k++)
			pv_first[nfirst++] = pp->def_pv[k];
		for (int k = 0; a != &pp->cl && k < a->npv; k++)
			pv_first[nfirst++] = a->pv[k];
		src.alists = ga ? ga->alists : NULL;
		src.nal = ga ? ga->nal : 0;
		src.wlists = wl;
		src.nwl = nwl;
		src.pv_first = pv_first;
		src.nfirst = nfirst;
		src.pv_last = pp->cl.pv;
		src.nlast = pp->cl.npv;
		src.threads = gt ? gt->threads : plan_default_threads;
		src.nthreads = gt ? gt->nthreads : 1;
		src.optional_ok = ga != &pp->cl;
		src.where = where;
		src.noted = pp->noted;
		fg->requested = gf ? gf->faults : MMB_FAULTS_OFF;
		fg->mode = fg->requested;
		if (a == &pp->cl)
			snprintf(fg->where, sizeof(fg->where), "command line");
		else
			snprintf(fg->where, sizeof(fg->where), "%.200s:%u", s->path,
				 s->lines[i].lineno);
		p->nfgroups = pp->ngroups + 1;
		if (plan_group_add(p, &src, &pp->group[pp->ngroups++], err, errlen) ||
		    (a != &pp->cl && plan_check_params(p, a->pv, a->npv, err, errlen))) {
			if (i < s->nlines)
				plan_where(err, errlen, s->path, s->lines[i].lineno);
			return -EINVAL;
		}
	}
	if (!pp->ngroups) {
		snprintf(err, errlen, "%s: no line names a workload (-w)", s->path);
		return -EINVAL;
	}
	for (unsigned i = 0; i < s->nlines; i++)
		if (!pp->line[i].nwl && !plan_is_prog_line(s, i) &&
		    plan_check_params(p, pp->line[i].pv, pp->line[i].npv, err, errlen)) {
			plan_where(err, errlen, s->path, s->lines[i].lineno);
			return -EINVAL;
		}
	return 0;
}

/* Is (a, w, threads, fault mode) already a cell of this repetition? */
static int plan_have_cell(const struct mmb_plan *p, unsigned from, unsigned a, unsigned w,
			  unsigned threads, enum mmb_fault_mode faults)
{
	for (unsigned i = from; i < p->ncells; i++)
		if (p->cells[i].ai == a && p->cells[i].wi == w && p->cells[i].threads == threads &&
		    p->cells[i].faults == faults)
			return 1;
	return 0;
}

/* Cells of every group, repetition outermost; p->threads = every count used. */
static int plan_expand(struct mmb_plan *p, const struct plan_group *groups, unsigned ngroups,
		       char *err, size_t errlen)
{
	size_t max = 0;

	for (unsigned g = 0; g < ngroups; g++) {
		max += (size_t)groups[g].na * groups[g].nw * groups[g].nthreads;
		for (unsigned t = 0; t < groups[g].nthreads; t++) {
			unsigned k = 0, th = mmb_measure_threads(&p->measure, groups[g].threads[t]);

			while (k < p->nthreads && p->threads[k] != th)
				k++;
			if (k == p->nthreads && p->nthreads == MMB_PLAN_MAX_THREADS) {
				snprintf(err, errlen, "more than %d distinct thread counts",
					 MMB_PLAN_MAX_THREADS);
				return -EINVAL;
			}
			if (k == p->nthreads)
				p->threads[p->nthreads++] = th;
		}
	}
	if (max == 0) {
		snprintf(err, errlen, "nothing to run: no allocator is available for any group");
		return -EINVAL;
	}
	p->cells = calloc(max * p->reps, sizeof(*p->cells));
	if (!p->cells) {
		snprintf(err, errlen, "out of memory for %zu cells", max * p->reps);
		return -EINVAL;
	}
	p->ncells = 0;
	for (unsigned r = 1; r <= p->reps; r++) {
		unsigned first = p->ncells;

		for (unsigned g = 0; g < ngroups; g++)
			for (unsigned w = 0; w < groups[g].nw; w++)
				for (unsigned t = 0; t < groups[g].nthreads; t++)
					for (unsigned a = 0; a < groups[g].na; a++) {
						struct mmb_cell *cell = &p->cells[p->ncells];
						unsigned th = mmb_measure_threads(&p->measure,
										  groups[g].threads[t]);

						if (plan_have_cell(p, first, groups[g].ai[a],
								   groups[g].wi[w], th,
								   p->fgroups[g].requested))
							continue;
						cell->id = ++p->ncells;
						cell->ai = groups[g].ai[a];
						cell->wi = groups[g].wi[w];
						cell->threads = th;
						cell->rep = r;
						cell->seed = mmb_plan_rep_seed(p->seed, r);
						cell->fg = g;
						cell->faults = p->fgroups[g].requested;
					}
	}
	return 0;
}

/*
 * --op-equivalent: a sequence of --ops calls per thread, and workloads that
 * can run one (mmb_wl_ops.not_op_equivalent). Resolves the accounting mode.
 */
static int plan_check_op_equivalent(struct mmb_plan *p, char *err, size_t errlen)
{
	if (p->accounting < 0)
		p->accounting = p->op_equivalent;
	if (!p->op_equivalent)
		return 0;
	if (!p->ops) {
		snprintf(err, errlen, "--op-equivalent needs --ops N (the sequence: allocator calls "
			 "per thread); --duration is then its time-out");
		return -EINVAL;
	}
	for (unsigned i = 0; i < p->nwconf; i++)
		if (p->wconf[i].ops->not_op_equivalent) {
			snprintf(err, errlen, "workload %s cannot run an op-equivalent sequence: %s",
				 p->wconf[i].ops->name, p->wconf[i].ops->not_op_equivalent);
			return -EINVAL;
		}
	return 0;
}

int mmb_plan_parse(int argc, char **argv, struct mmb_plan *p, char *err, size_t errlen)
{
	struct plan_parse *pp = calloc(1, sizeof(*pp));
	int rc = -EINVAL, any_fault_cpu = 0, any_census = 0;

	memset(p, 0, sizeof(*p));
	p->reps = 1;
	p->duration_s = 0.5;
	p->seed = 42;
	p->cell_timeout_s = 60;
	p->fault_cpu = -1;
	p->accounting = -1;
	mmb_measure_defaults(&p->measure);
	p->fgroups = calloc(PLAN_MAX_GROUPS, sizeof(*p->fgroups));
	if (!pp || !p->fgroups) {
		free(pp);
		free(p->fgroups);
		p->fgroups = NULL;
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (plan_getopt(argc, argv, &pp->cl, 0, err, errlen))
		goto out;
	if (pp->cl.help) {
		fputs(mmb_run_usage, stdout);
		rc = 1;
		goto out;
	}
	p->outdir = pp->cl.outdir;
	p->quiet = pp->cl.quiet;
	if (pp->cl.suite) {
		if (mmb_suite_load(pp->cl.suite, &pp->suite, err, errlen) ||
		    plan_suite_groups(p, pp, err, errlen))
			goto out;
	} else {
		char *wl[MAX_LIST_ARGS], *pw[MAX_LIST_ARGS];
		int nwl, npw, from_first = 0;
		unsigned from_n = 0;

		plan_split_wlists(pp->cl.wlists, pp->cl.nwl, wl, &nwl, pw, &npw);
		struct plan_group_src src = {
			.alists = pp->cl.nal ? pp->cl.alists : NULL, .nal = pp->cl.nal,
			.wlists = nwl ? wl : NULL, .nwl = nwl,
			.pv_first = pp->cl.pv, .nfirst = pp->cl.npv,
			.threads = pp->cl.nthreads ? pp->cl.threads : plan_default_threads,
			.nthreads = pp->cl.nthreads ? pp->cl.nthreads : 1,
		};

		plan_apply_scalars(p, &pp->cl);
		if (pp->cl.programs_from) {
			from_first = plan_programs_from(p, pp->cl.programs_from, &from_n, err, errlen);
			if (from_first < 0)
				goto out;
		}
		if (nwl || (!npw && !pp->cl.programs_from)) {
			p->fgroups[0].requested = pp->cl.have_faults ? pp->cl.faults : MMB_FAULTS_OFF;
			p->fgroups[0].mode = p->fgroups[0].requested;
			snprintf(p->fgroups[0].where, sizeof(p->fgroups[0].where), "command line");
			p->nfgroups = 1;
			if (plan_group_add(p, &src, &pp->group[0], err, errlen))
				goto out;
			pp->ngroups = 1;
		}
		if (plan_prog_groups(p, pp, pw, npw, from_first, from_n, &pp->cl, 0, "command line",
				     "command line", err, errlen))
			goto out;
	}
	for (unsigned g = 0; g < p->nfgroups; g++) {
		enum mmb_fault_mode m = p->fgroups[g].requested;

		any_fault_cpu |= m == MMB_FAULTS_UFFD || m == MMB_FAULTS_AUTO;
		any_census |= m != MMB_FAULTS_OFF;
	}
	if (p->fault_cpu >= 0 && !any_fault_cpu) {
		snprintf(err, errlen, "--fault-cpu pins the uffd handler thread: give --faults uffd or auto");
		goto out;
	}
	if (p->fault_log && !any_census) {
		snprintf(err, errlen, "--fault-log needs --faults uffd, sigbus or auto");
		goto out;
	}
	if (plan_check_op_equivalent(p, err, errlen) ||
	    plan_check_params(p, pp->cl.pv, pp->cl.npv, err, errlen) ||
	    mmb_measure_load_topo(&p->measure, err, errlen) ||
	    plan_expand(p, pp->group, pp->ngroups, err, errlen) ||
	    mmb_measure_finish(&p->measure, p->threads, p->nthreads, err, errlen))
		goto out;
	for (unsigned i = 0; p->measure.size_classes && i < p->naconf; i++)
		if (!p->aconf[i].ops->size_classes) {
			snprintf(err, errlen, "--size-classes: allocator %s has no size classes to "
				 "report (slab, jemalloc, jemalloc-malloc and mimalloc have)",
				 p->aconf[i].ops->name);
			goto out;
		}
	rc = 0;
out:
	mmb_suite_free(&pp->suite);
	free(pp);
	if (rc)
		mmb_plan_free(p);	/* also after --help: nothing to run */
	return rc;
}

void mmb_plan_free(struct mmb_plan *plan)
{
	for (unsigned i = 0; i < plan->nprogs; i++)
		mmb_prog_free(&plan->progs[i]);
	free(plan->progs);
	plan->progs = NULL;
	plan->nprogs = 0;
	free(plan->cells);
	plan->cells = NULL;
	free(plan->fgroups);
	plan->fgroups = NULL;
	mmb_measure_free(&plan->measure);
}
