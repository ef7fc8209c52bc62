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

const char mmb_run_usage[] =
	"usage: mmbench run [-a ALLOC[,ALLOC...]] [-w WORKLOAD[,...]] [-t THREADS[,...]]\n"
	"                   [-r REPS] [-p KEY=VALUE]... [--ops N | --duration SECONDS]\n"
	"                   [--seed N] [-o DIR] [--cell-timeout SECONDS] [--dump-state]\n"
	"                   [--check] [-q]\n"
	"\n"
	"Runs every cell of (allocator config x workload x threads x repetition), each in\n"
	"its own process, and writes a results folder (meta.json, cells.csv).\n"
	"\n"
	"  -a, --allocator LIST   allocator configs, NAME or NAME:key=value,key=value\n"
	"                         (default: every allocator; see `mmbench list allocators`)\n"
	"  -w, --workload LIST    workloads, NAME or NAME:key=value,... (default: all)\n"
	"  -t, --threads LIST     worker thread counts, e.g. 1,2 (default: 1)\n"
	"  -r, --reps N           repetitions of every cell (default: 1)\n"
	"  -p, --param KEY=VALUE  workload parameter, for every chosen workload that has it\n"
	"      --ops N            allocator calls per thread in the timed region\n"
	"      --duration SECONDS length of the timed region (default: 0.5)\n"
	"      --seed N           base seed (default: 42); recorded in meta.json\n"
	"  -o, --output DIR       results folder; must not exist or be empty\n"
	"                         (default: results/<UTC time>-<id>)\n"
	"      --cell-timeout S   kill a cell after S seconds, status timeout (default: 60)\n"
	"      --dump-state       write each allocator's state files to DIR/state/<cell>/\n"
	"      --check            run the allocator's invariant check after each cell\n"
	MMB_MEASURE_USAGE
	"  -q, --quiet            no progress or summary, only the folder's path\n"
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

static int plan_add_alloc(struct mmb_plan *p, const char *spec, char *err, size_t errlen)
{
	struct mmb_aconf *ac;

	if (p->naconf == MMB_PLAN_MAX_CONFIGS) {
		snprintf(err, errlen, "too many allocator configs (at most %d)", MMB_PLAN_MAX_CONFIGS);
		return -EINVAL;
	}
	ac = &p->aconf[p->naconf];
	if (mmb_alloc_parse_config(spec, &ac->ops, &ac->cfg, err, errlen))
		return -EINVAL;
	mmb_params_format(&ac->cfg.opts, 1, ac->config, sizeof(ac->config));
	plan_spec(ac->spec, ac->ops->name, ac->config);
	for (unsigned i = 0; i < p->naconf; i++)
		if (strcmp(p->aconf[i].spec, ac->spec) == 0)
			return 0;	/* the same config twice is one config */
	if (ac->ops->supported) {
		const char *why = "unsupported";

		if (ac->ops->supported(&why)) {
			snprintf(err, errlen, "allocator %s cannot run here: %s", ac->ops->name, why);
			return -EINVAL;
		}
	}
	p->naconf++;
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

static int plan_add_workload(struct mmb_plan *p, const char *spec, char **pv, int npv, char *err,
			     size_t errlen)
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
	for (int i = 0; i < npv; i++) {
		char key[128];
		const char *eq = strchr(pv[i], '=');

		snprintf(key, sizeof(key), "%.*s", (int)(eq - pv[i]), pv[i]);
		if (mmb_params_set(&wc->params, key, eq + 1, what, err, errlen) == -EINVAL)
			return -EINVAL;
	}
	if (colon && colon[1]) {
		struct mmb_pvals spec_vals;

		if (mmb_params_parse(wc->ops->params, colon + 1, what, &spec_vals, err, errlen))
			return -EINVAL;
		for (int i = 0; i < mmb_params_count(wc->ops->params); i++)
			if (spec_vals.v[i].given)
				wc->params.v[i] = spec_vals.v[i];
	}
	mmb_params_format(&wc->params, 0, wc->params_text, sizeof(wc->params_text));
	plan_spec(wc->spec, wc->ops->name, wc->params_text);
	for (unsigned i = 0; i < p->nwconf; i++)
		if (strcmp(p->wconf[i].spec, wc->spec) == 0)
			return 0;
	p->nwconf++;
	return 0;
}

/* Every -p key must be known to at least one chosen workload. */
static int plan_check_params(struct mmb_plan *p, char **pv, int npv, char *err, size_t errlen)
{
	for (int i = 0; i < npv; i++) {
		char key[128];
		const char *eq = strchr(pv[i], '=');
		int known = 0;

		if (!eq || eq == pv[i]) {
			snprintf(err, errlen, "-p '%s': expected KEY=VALUE", pv[i]);
			return -EINVAL;
		}
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

enum { OPT_OPS = 256, OPT_DURATION, OPT_SEED, OPT_CELL_TIMEOUT, OPT_DUMP_STATE, OPT_CHECK };

static const struct option run_longopts[] = {
	{ "allocator", required_argument, NULL, 'a' },
	{ "workload", required_argument, NULL, 'w' },
	{ "threads", required_argument, NULL, 't' },
	{ "reps", required_argument, NULL, 'r' },
	{ "param", required_argument, NULL, 'p' },
	{ "output", required_argument, NULL, 'o' },
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "cell-timeout", required_argument, NULL, OPT_CELL_TIMEOUT },
	{ "dump-state", no_argument, NULL, OPT_DUMP_STATE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	MMB_MEASURE_LONGOPTS
	{ 0 },
};

#define MAX_LIST_ARGS 32

int mmb_plan_parse(int argc, char **argv, struct mmb_plan *p, char *err, size_t errlen)
{
	static char specs[MMB_PLAN_MAX_CONFIGS][MMB_SPEC_MAX];
	char *alists[MAX_LIST_ARGS], *wlists[MAX_LIST_ARGS], *pv[MAX_LIST_ARGS];
	int nal = 0, nwl = 0, npv = 0, c, have_ops = 0, have_duration = 0;
	uint64_t u;

	memset(p, 0, sizeof(*p));
	p->reps = 1;
	p->duration_s = 0.5;
	p->seed = 42;
	p->cell_timeout_s = 60;
	p->threads[0] = 1;
	p->nthreads = 1;
	mmb_measure_defaults(&p->measure);
	opterr = 0;
	optind = 0;		/* GNU: full reinitialization, so tests may call us again */
	while ((c = getopt_long(argc, argv, "+:a:w:t:r:p:o:qh", run_longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
		case 'w':
		case 'p': {
			char **list = c == 'a' ? alists : c == 'w' ? wlists : pv;
			int *n = c == 'a' ? &nal : c == 'w' ? &nwl : &npv;

			if (*n == MAX_LIST_ARGS) {
				snprintf(err, errlen, "too many -%c options", c);
				return -EINVAL;
			}
			list[(*n)++] = optarg;
			break;
		}
		case 't': {
			char buf[512], *save = NULL;

			p->nthreads = 0;
			snprintf(buf, sizeof(buf), "%s", optarg);
			for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				int named = !strcmp(tok, "cores") || !strcmp(tok, "pus");

				if (p->nthreads == MMB_PLAN_MAX_THREADS ||
				    (!named && parse_u64(tok, 1, 1024, &u))) {
					snprintf(err, errlen, "-t %s: expected thread counts 1..1024, "
						 "cores or pus, at most %d of them", optarg,
						 MMB_PLAN_MAX_THREADS);
					return -EINVAL;
				}
				if (named)
					u = tok[0] == 'c' ? MMB_THREADS_CORES : MMB_THREADS_PUS;
				p->threads[p->nthreads++] = (unsigned)u;
			}
			if (!p->nthreads) {
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
			p->reps = (unsigned)u;
			break;
		case 'o':
			p->outdir = optarg;
			break;
		case OPT_OPS:
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &p->ops)) {
				snprintf(err, errlen, "--ops %s: expected a positive integer", optarg);
				return -EINVAL;
			}
			have_ops = 1;
			break;
		case OPT_DURATION:
			if (parse_double(optarg, 0.001, 86400, &p->duration_s)) {
				snprintf(err, errlen, "--duration %s: expected seconds in [0.001, 86400]", optarg);
				return -EINVAL;
			}
			have_duration = 1;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &p->seed)) {
				snprintf(err, errlen, "--seed %s: expected a non-negative integer", optarg);
				return -EINVAL;
			}
			break;
		case OPT_CELL_TIMEOUT:
			if (parse_double(optarg, 0.1, 86400 * 7, &p->cell_timeout_s)) {
				snprintf(err, errlen, "--cell-timeout %s: expected seconds in [0.1, 604800]", optarg);
				return -EINVAL;
			}
			break;
		case OPT_DUMP_STATE:
			p->dump_state = 1;
			break;
		case OPT_CHECK:
			p->check = 1;
			break;
		case 'q':
			p->quiet = 1;
			break;
		case 'h':
			fputs(mmb_run_usage, stdout);
			return 1;
		case ':':
			snprintf(err, errlen, "run: option '%s' needs a value (see mmbench run --help)",
				 argv[optind - 1]);
			return -EINVAL;
		default:
			if (c >= MMB_MEASURE_OPT_FIRST && c < MMB_MEASURE_OPT_END) {
				if (mmb_measure_option(&p->measure, c, optarg, err, errlen))
					return -EINVAL;
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
	if (have_ops && have_duration) {
		snprintf(err, errlen, "run: give --ops or --duration, not both");
		return -EINVAL;
	}
	if (have_ops)
		p->duration_s = 0;

	if (nal == 0) {
		for (size_t i = 0; i < mmb_nallocators; i++)
			if (!mmb_allocators[i]->hidden && plan_add_alloc(p, mmb_allocators[i]->name, err, errlen))
				return -EINVAL;
	}
	for (int l = 0; l < nal; l++) {
		int n = mmb_split_specs(alists[l], specs, MMB_PLAN_MAX_CONFIGS);

		if (n <= 0) {
			snprintf(err, errlen, "-a '%s': expected ALLOC[:k=v,...][,ALLOC...]", alists[l]);
			return -EINVAL;
		}
		for (int i = 0; i < n; i++)
			if (plan_add_alloc(p, specs[i], err, errlen))
				return -EINVAL;
	}
	if (nwl == 0) {
		for (size_t i = 0; i < mmb_nworkloads; i++)
			if (!mmb_workloads[i]->hidden &&
			    plan_add_workload(p, mmb_workloads[i]->name, pv, npv, err, errlen))
				return -EINVAL;
	}
	for (int l = 0; l < nwl; l++) {
		int n = mmb_split_specs(wlists[l], specs, MMB_PLAN_MAX_CONFIGS);

		if (n <= 0) {
			snprintf(err, errlen, "-w '%s': expected WORKLOAD[:k=v,...][,WORKLOAD...]", wlists[l]);
			return -EINVAL;
		}
		for (int i = 0; i < n; i++)
			if (plan_add_workload(p, specs[i], pv, npv, err, errlen))
				return -EINVAL;
	}
	if (plan_check_params(p, pv, npv, err, errlen))
		return -EINVAL;
	if (mmb_measure_finish(&p->measure, p->threads, p->nthreads, err, errlen)) {
		mmb_measure_free(&p->measure);
		return -EINVAL;
	}

	p->ncells = p->reps * p->nwconf * p->nthreads * p->naconf;
	p->cells = calloc(p->ncells, sizeof(*p->cells));
	if (!p->cells) {
		snprintf(err, errlen, "out of memory for %u cells", p->ncells);
		mmb_measure_free(&p->measure);
		return -EINVAL;
	}
	unsigned id = 0;

	for (unsigned r = 1; r <= p->reps; r++)
		for (unsigned w = 0; w < p->nwconf; w++)
			for (unsigned t = 0; t < p->nthreads; t++)
				for (unsigned a = 0; a < p->naconf; a++) {
					struct mmb_cell *cell = &p->cells[id];

					cell->id = ++id;
					cell->ai = a;
					cell->wi = w;
					cell->threads = p->threads[t];
					cell->rep = r;
					cell->seed = mmb_plan_rep_seed(p->seed, r);
				}
	return 0;
}

void mmb_plan_free(struct mmb_plan *plan)
{
	free(plan->cells);
	plan->cells = NULL;
	mmb_measure_free(&plan->measure);
}
