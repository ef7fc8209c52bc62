/*
 * merge.c — `mmbench merge DIR`: one results folder from a Slurm run's
 * shards (slurm.h has the layout).
 *
 * Every planned cell ends up in cells.csv exactly once: from the newest
 * submission whose shard holds it, else from DIR's own cells.csv (a cell a
 * local `--resume` ran, or an earlier merge), else as status "lost" with
 * the task's Slurm state ("slurm job 41_3: CANCELLED (None)"), which
 * `--resume` runs again. latency.csv, timeline.csv, faults.csv,
 * frag_orders.csv and size_classes.csv take each cell's rows from the same
 * source as its cells.csv row; a shard's state/ folders move into
 * DIR/state/. nodes.csv says which machine ran each cell,
 * and meta.json lists the machines and jobs under "slurm".
 *
 * Rerunnable: the inputs (shards, DIR's own rows) are read again each time
 * and every output is replaced atomically, so a second merge writes the
 * same files. Refused with nothing overwritten (exit 2): a folder without
 * DIR/slurm/sub-1 (not a Slurm run), a shard whose meta.json plans another
 * command line, or a shard row that is not the plan's cell.
 */
#include "slurm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../meta.h"
#include "../plan.h"
#include "../resdir.h"
#include "../results.h"
#include "../resume.h"
#include "../run.h"
#include "../memstate.h"
#include "../series.h"
#include "../timeline.h"
#include "../util.h"

#define MERGE_MAX_TASKS (1u << 20)

struct merge_src {			/* where a cell's result comes from */
	unsigned k, t;			/* submission and task; k 0 = DIR's own row */
};

struct merge_task {			/* one array task */
	unsigned k, t;
	char state[400];		/* Slurm's "STATE (reason)", or from node-T.txt */
	char host[256], cpu[256];
	char topo[4096];		/* its shard's meta.json "topology", raw JSON ("": none, or too long) */
	char job[96];			/* "ARRAY_T" */
};

struct merge {
	const char *dir;
	struct mmb_plan plan;
	int argc;
	char **argv;
	struct mmb_result *res;		/* per cell; status "" = none yet */
	struct merge_src *src;
	int *task_of;			/* per cell: index into tasks, -1 = none */
	struct merge_task *tasks;	/* grown as tasks.txt files are read */
	unsigned ntasks, cap;
	unsigned nsubs;
	struct mmb_xcols xcols;
	char host[256], cpu[256];	/* DIR's own meta.json: where local rows ran */
};

/* "ARRAY" job ids of submission k, from jobs.txt. */
static void merge_jobs(const struct merge *m, unsigned k, char *array, char *mergejob, size_t len)
{
	char path[4400];

	mmb_slurm_path(path, sizeof(path), m->dir, k, "jobs.txt");
	if (mmb_slurm_kv(path, "array", array, len))
		array[0] = 0;
	if (mmb_slurm_kv(path, "merge", mergejob, len))
		mergejob[0] = 0;
}

/* Task states of an array from squeue ("%K %T %r" per task), or "". */
static void merge_states(struct merge *m, unsigned k, const char *array)
{
	char *out = malloc(1 << 20);
	char *argv[] = { "squeue", "-h", "-t", "all", "-j", (char *)array, "-o", "%K %T %r", NULL };

	if (!out)
		return;
	if (array[0] && mmb_slurm_in_path("squeue") &&
	    mmb_slurm_cmd(argv, out, 1 << 20, NULL, 0, 30) == 0) {
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
			unsigned t;
			char st[64], why[96] = "";

			if (sscanf(line, "%u %63s %95[^\n]", &t, st, why) < 2)
				continue;
			for (unsigned i = 0; i < m->ntasks; i++)
				if (m->tasks[i].k == k && m->tasks[i].t == t)
					snprintf(m->tasks[i].state, sizeof(m->tasks[i].state),
						 "%s (%s)", st, why[0] ? why : "None");
		}
	}
	free(out);
}

/* Read sub-k/tasks.txt into m->tasks and task_of[]. 0 or -1 (said). */
static int merge_read_tasks(struct merge *m, unsigned k)
{
	char path[4400], array[64], mj[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	mmb_slurm_path(path, sizeof(path), m->dir, k, "tasks.txt");
	f = fopen(path, "r");
	if (!f) {
		mmb_err("merge: cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	merge_jobs(m, k, array, mj, sizeof(array));
	while (getline(&line, &cap, f) > 0) {
		char *p = line, *end, name[64], node[4400], v[256];
		unsigned long t = strtoul(p, &end, 10), c;
		struct merge_task *mt;

		if (end == p)
			continue;
		if (m->ntasks == m->cap) {
			unsigned ncap = m->cap ? 2 * m->cap : 64;
			struct merge_task *grown = ncap <= MERGE_MAX_TASKS ?
				realloc(m->tasks, ncap * sizeof(*grown)) : NULL;

			if (!grown) {
				mmb_err("merge: more than %u tasks, or out of memory", m->cap);
				goto bad;
			}
			m->tasks = grown;
			m->cap = ncap;
		}
		mt = &m->tasks[m->ntasks];
		memset(mt, 0, sizeof(*mt));
		mt->k = k;
		mt->t = (unsigned)t;
		snprintf(mt->job, sizeof(mt->job), "%s_%lu", array[0] ? array : "?", t);
		snprintf(name, sizeof(name), "node-%lu.txt", t);
		mmb_slurm_path(node, sizeof(node), m->dir, k, name);
		if (!mmb_slurm_kv(node, "hostname", v, sizeof(v)))
			snprintf(mt->host, sizeof(mt->host), "%s", v);
		if (!mmb_slurm_kv(node, "exit", v, sizeof(v)))
			snprintf(mt->state, sizeof(mt->state), "ended with exit status %s (no Slurm "
				 "record)", v);
		else if (mt->host[0])
			snprintf(mt->state, sizeof(mt->state), "started on %s, never ended (no Slurm "
				 "record)", mt->host);
		else
			snprintf(mt->state, sizeof(mt->state), "never started; Slurm has no record of the task "
				 "(cancelled while pending, or forgotten after MinJobAge)");
		for (p = end;; p = end) {
			c = strtoul(p, &end, 10);
			if (end == p)
				break;
			if (c < 1 || c > m->plan.ncells) {
				mmb_err("merge: %s: task %lu names cell %lu; the plan has %u", path, t, c,
					m->plan.ncells);
				goto bad;
			}
			m->task_of[c - 1] = (int)m->ntasks;	/* the newest submission wins */
		}
		m->ntasks++;
	}
	free(line);
	fclose(f);
	merge_states(m, k, array);
	return 0;
bad:
	free(line);
	fclose(f);
	return -1;
}

/* Does this shard plan the same run? Its meta.json's command line must be
 * DIR's, word for word. 0, 1 (no shard: the task never wrote one) or -1. */
static int merge_check_shard(const struct merge *m, const char *shard)
{
	char err[1024];
	char **sargv = NULL;
	int sargc = 0, same;
	struct stat st;

	if (stat(shard, &st))
		return 1;
	if (mmb_resume_argv(shard, &sargc, &sargv, err, sizeof(err))) {
		char path[4500];

		snprintf(path, sizeof(path), "%s/meta.json", shard);
		if (stat(path, &st))
			return 1;	/* the task died before writing anything */
		mmb_err("merge: shard %s: %s", shard, err);
		return -1;
	}
	same = sargc == m->argc;
	for (int i = 0; same && i < sargc; i++)
		same = !strcmp(sargv[i], m->argv[i]);
	mmb_resume_free(sargc, sargv);
	if (!same) {
		mmb_err("merge: shard %s was planned from another command line than %s/meta.json "
			"(shards disagree on the plan); nothing merged", shard, m->dir);
		return -1;
	}
	return 0;
}

/* Is row r the plan's cell r->cell? */
static int merge_is_cell(const struct merge *m, const struct mmb_result *r)
{
	const struct mmb_plan *p = &m->plan;
	const struct mmb_cell *c;

	if (r->cell < 1 || r->cell > p->ncells || !r->status[0])
		return 0;
	c = &p->cells[r->cell - 1];
	return !strcmp(r->allocator, p->aconf[c->ai].ops->name) &&
	       !strcmp(r->config, p->aconf[c->ai].config) &&
	       !strcmp(r->workload, p->wconf[c->wi].ops->name) &&
	       !strcmp(r->params, p->wconf[c->wi].params_text) && r->threads == c->threads &&
	       r->rep == c->rep && r->seed == c->seed;
}

static void merge_shard_dir(const struct merge *m, unsigned k, unsigned t, char *buf, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "shard-%u", t);
	mmb_slurm_path(buf, len, m->dir, k, name);
}

/* Take the rows of every shard (older submissions first, so newer win). */
static int merge_take_shards(struct merge *m)
{
	for (unsigned i = 0; i < m->ntasks; i++) {
		struct merge_task *mt = &m->tasks[i];
		struct mmb_result *rows = NULL;
		char shard[4400], path[4500], err[512], v[256];
		int n, e;

		merge_shard_dir(m, mt->k, mt->t, shard, sizeof(shard));
		e = merge_check_shard(m, shard);
		if (e < 0)
			return -1;
		if (e == 1)
			continue;
		snprintf(path, sizeof(path), "%s/cells.csv", shard);
		n = mmb_csv_read(path, &rows, err, sizeof(err));
		if (n == -ENOENT)
			continue;
		if (n < 0) {
			mmb_err("merge: %s", err);
			return -1;
		}
		for (int j = 0; j < n; j++) {
			const struct mmb_result *r = &rows[j];

			if (!merge_is_cell(m, r) || m->task_of[r->cell - 1] < 0 ||
			    m->tasks[m->task_of[r->cell - 1]].k < mt->k) {
				mmb_err("merge: %s row %d (cell %u) is not a cell of task %u's plan; "
					"nothing merged", path, j + 1, r->cell, mt->t);
				free(rows);
				return -1;
			}
			if (!strcmp(r->status, MMB_ST_LOST))
				continue;
			m->res[r->cell - 1] = *r;
			m->src[r->cell - 1] = (struct merge_src){ mt->k, mt->t };
		}
		free(rows);
		snprintf(path, sizeof(path), "%s/meta.json", shard);
		{	/* the node's hostname and CPU model, as its shard's meta.json says */
			struct mmb_resdir rd;

			if (!mmb_resdir_open(shard, &rd, err, sizeof(err))) {
				if (mmb_resdir_meta(&rd, "hostname", ",", v, sizeof(v)))
					snprintf(mt->host, sizeof(mt->host), "%s", v);
				if (mmb_resdir_meta(&rd, "cpu_model", ",", v, sizeof(v)))
					snprintf(mt->cpu, sizeof(mt->cpu), "%s", v);
				if (!mmb_resdir_meta(&rd, "topology", ",", mt->topo, sizeof(mt->topo)) ||
				    mt->topo[0] != '{' || strlen(mt->topo) + 1 == sizeof(mt->topo))
					mt->topo[0] = 0;
				mmb_resdir_close(&rd);
			}
		}
	}
	return 0;
}

/* DIR's own rows fill the cells no shard holds (a local --resume). */
static int merge_take_local(struct merge *m)
{
	struct mmb_result *rows = NULL;
	char path[4300], err[512];
	int n;

	snprintf(path, sizeof(path), "%s/cells.csv", m->dir);
	n = mmb_csv_read(path, &rows, err, sizeof(err));
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		mmb_err("merge: %s", err);
		return -1;
	}
	for (int j = 0; j < n; j++) {
		const struct mmb_result *r = &rows[j];

		if (!merge_is_cell(m, r)) {
			mmb_err("merge: %s row %d (cell %u) is not the plan's cell; nothing merged",
				path, j + 1, r->cell);
			free(rows);
			return -1;
		}
		if (strcmp(r->status, MMB_ST_LOST) && !m->res[r->cell - 1].status[0]) {
			m->res[r->cell - 1] = *r;
			m->src[r->cell - 1] = (struct merge_src){ 0, 0 };
		}
	}
	free(rows);
	return 0;
}

/* A cell without a result: lost, with its task's Slurm state. */
static void merge_mark_lost(struct merge *m)
{
	const struct mmb_plan *p = &m->plan;

	for (unsigned i = 0; i < p->ncells; i++) {
		struct mmb_result *r = &m->res[i];
		const struct mmb_cell *c = &p->cells[i];
		int ti = m->task_of[i];

		if (r->status[0])
			continue;
		mmb_result_init(r);
		r->cell = c->id;
		snprintf(r->allocator, sizeof(r->allocator), "%s", p->aconf[c->ai].ops->name);
		snprintf(r->config, sizeof(r->config), "%s", p->aconf[c->ai].config);
		snprintf(r->workload, sizeof(r->workload), "%s", p->wconf[c->wi].ops->name);
		snprintf(r->params, sizeof(r->params), "%s", p->wconf[c->wi].params_text);
		r->threads = c->threads;
		r->rep = c->rep;
		r->seed = c->seed;
		snprintf(r->status, sizeof(r->status), MMB_ST_LOST);
		if (ti >= 0)
			snprintf(r->detail, sizeof(r->detail), "slurm job %.40s: %.180s; no result",
				 m->tasks[ti].job, m->tasks[ti].state);
		else
			snprintf(r->detail, sizeof(r->detail), "never submitted");
		m->src[i] = (struct merge_src){ 0, 0 };
	}
}

static int merge_cells_emit(FILE *f, void *arg)
{
	const struct merge *m = arg;
	int err = mmb_csv_write_header(f, &m->xcols);

	for (unsigned i = 0; !err && i < m->plan.ncells; i++)
		err = mmb_csv_write_row(f, &m->res[i], &m->xcols);
	return err;
}

/* The rows of file (a series, first field the cell) whose cell comes from
 * (k, t), copied to out; the header skipped. */
static void merge_copy_rows(const struct merge *m, const char *file, unsigned k, unsigned t,
			    int local, FILE *out)
{
	FILE *in = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int first = 1;

	if (!in)
		return;
	while (getline(&line, &cap, in) > 0) {
		char *end;
		unsigned long c = strtoul(line, &end, 10);

		if (first) {
			first = 0;
			continue;
		}
		if (end == line || *end != ',' || c < 1 || c > m->plan.ncells)
			continue;
		if (!strcmp(m->res[c - 1].status, MMB_ST_LOST))
			continue;
		if (local ? m->src[c - 1].k != 0
			  : m->src[c - 1].k != k || m->src[c - 1].t != t)
			continue;
		fputs(line, out);
	}
	free(line);
	fclose(in);
}

struct merge_series {
	const struct merge *m;
	const char *name, *header;
};

static int merge_series_emit(FILE *f, void *arg)
{
	const struct merge_series *s = arg;
	const struct merge *m = s->m;
	char path[4500];

	fprintf(f, "%s\n", s->header);
	snprintf(path, sizeof(path), "%s/%s", m->dir, s->name);
	merge_copy_rows(m, path, 0, 0, 1, f);
	for (unsigned i = 0; i < m->ntasks; i++) {
		char shard[4400];

		merge_shard_dir(m, m->tasks[i].k, m->tasks[i].t, shard, sizeof(shard));
		snprintf(path, sizeof(path), "%s/%s", shard, s->name);
		merge_copy_rows(m, path, m->tasks[i].k, m->tasks[i].t, 0, f);
	}
	return ferror(f) ? -EIO : 0;
}

/* Any source holding this series file? */
static int merge_series_exists(const struct merge *m, const char *name)
{
	char path[4500], shard[4400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", m->dir, name);
	if (!stat(path, &st))
		return 1;
	for (unsigned i = 0; i < m->ntasks; i++) {
		merge_shard_dir(m, m->tasks[i].k, m->tasks[i].t, shard, sizeof(shard));
		snprintf(path, sizeof(path), "%s/%s", shard, name);
		if (!stat(path, &st))
			return 1;
	}
	return 0;
}

/* Move each shard cell's state/<cell> into DIR/state/ (once). */
static void merge_move_state(const struct merge *m)
{
	char from[4600], to[4400], shard[4400];
	struct stat st;

	for (unsigned i = 0; i < m->plan.ncells; i++) {
		if (!m->src[i].k)
			continue;
		merge_shard_dir(m, m->src[i].k, m->src[i].t, shard, sizeof(shard));
		snprintf(from, sizeof(from), "%s/state/%u", shard, i + 1);
		snprintf(to, sizeof(to), "%s/state/%u", m->dir, i + 1);
		if (stat(from, &st) || !stat(to, &st))
			continue;
		snprintf(to, sizeof(to), "%s/state", m->dir);
		mmb_mkdir_p(to, 0755);
		snprintf(to, sizeof(to), "%s/state/%u", m->dir, i + 1);
		rename(from, to);
	}
}

static const struct merge_task *merge_task_of_cell(const struct merge *m, unsigned i)
{
	if (!m->src[i].k)
		return NULL;
	for (unsigned j = 0; j < m->ntasks; j++)
		if (m->tasks[j].k == m->src[i].k && m->tasks[j].t == m->src[i].t)
			return &m->tasks[j];
	return NULL;
}

static int merge_nodes_emit(FILE *f, void *arg)
{
	const struct merge *m = arg;

	fputs("cell,hostname,cpu_model,slurm_job,slurm_state\n", f);
	for (unsigned i = 0; i < m->plan.ncells; i++) {
		const struct merge_task *mt = merge_task_of_cell(m, i);
		int ti = m->task_of[i];

		fprintf(f, "%u,", i + 1);
		if (mt) {
			mmb_csv_field(f, mt->host);
			fputc(',', f);
			mmb_csv_field(f, mt->cpu);
			fprintf(f, ",%s,", mt->job);
			mmb_csv_field(f, mt->state);
		} else if (!strcmp(m->res[i].status, MMB_ST_LOST)) {
			fprintf(f, ",,%s,", ti >= 0 ? m->tasks[ti].job : "");
			mmb_csv_field(f, ti >= 0 ? m->tasks[ti].state : "never submitted");
		} else {	/* ran here, outside Slurm (a local --resume) */
			mmb_csv_field(f, m->host);
			fputc(',', f);
			mmb_csv_field(f, m->cpu);
			fputs(",local,", f);
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

/* meta.json's "slurm" member: the submissions and the machines. */
static char *merge_slurm_json(const struct merge *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("  \"slurm\": {\n    \"submissions\": [", f);
	for (unsigned k = 1; k <= m->nsubs; k++) {
		char array[64], mj[64], path[4400], v[64];
		unsigned nt = 0;

		merge_jobs(m, k, array, mj, sizeof(array));
		mmb_slurm_path(path, sizeof(path), m->dir, k, "jobs.txt");
		for (unsigned i = 0; i < m->ntasks; i++)
			nt += m->tasks[i].k == k;
		fprintf(f, "%s\n      {\"array_job\": ", k > 1 ? "," : "");
		mmb_json_str(f, array);
		fputs(", \"merge_job\": ", f);
		mmb_json_str(f, mj);
		fprintf(f, ", \"tasks\": %u, \"submitted\": %s}", nt,
			mmb_slurm_kv(path, "submitted", v, sizeof(v)) ? "null" : v);
	}
	fputs("\n    ],\n    \"machines\": [", f);
	for (unsigned i = 0, nm = 0; i < m->ntasks; i++) {
		const struct merge_task *mt = &m->tasks[i];
		unsigned cells = 0, seen = 0;

		if (!mt->host[0])
			continue;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = !strcmp(m->tasks[j].host, mt->host) && !strcmp(m->tasks[j].cpu, mt->cpu);
		if (seen)
			continue;
		for (unsigned c = 0; c < m->plan.ncells; c++) {
			const struct merge_task *ct = merge_task_of_cell(m, c);

			cells += ct && !strcmp(ct->host, mt->host) && !strcmp(ct->cpu, mt->cpu);
		}
		fprintf(f, "%s\n      {\"hostname\": ", nm++ ? "," : "");
		mmb_json_str(f, mt->host);
		fputs(", \"cpu_model\": ", f);
		mmb_json_str(f, mt->cpu);
		fprintf(f, ", \"cells\": %u, \"topology\": %s}", cells, mt->topo[0] ? mt->topo : "null");
	}
	fputs("\n    ]\n  }", f);
	fclose(f);
	return buf;
}

static void merge_free(struct merge *m)
{
	free(m->res);
	free(m->src);
	free(m->task_of);
	free(m->tasks);
	if (m->argv) {
		mmb_plan_free(&m->plan);
		mmb_resume_free(m->argc, m->argv);
	}
}

int mmb_merge_main(int argc, char **argv)
{
	struct merge m = { 0 };
	char err[1024], path[4500], v[64];
	unsigned ndone = 0, nlost = 0;
	time_t start = 0;
	int e;

	if (argc != 2 || argv[1][0] == '-') {
		mmb_err("usage: mmbench merge DIR (the results folder of `mmbench run --slurm`)");
		return MMB_EXIT_USAGE;
	}
	m.dir = argv[1];
	m.nsubs = mmb_slurm_nsubs(m.dir);
	if (!m.nsubs) {
		mmb_err("merge: %s is not an mmbench Slurm run (no %s/slurm/sub-1/tasks.txt)", m.dir,
			m.dir);
		return MMB_EXIT_USAGE;
	}
	if (mmb_resume_argv(m.dir, &m.argc, &m.argv, err, sizeof(err))) {
		mmb_err("merge: %s", err);
		return MMB_EXIT_USAGE;
	}
	e = mmb_plan_parse(m.argc, m.argv, &m.plan, err, sizeof(err));
	if (e) {
		mmb_err("merge: the plan in %s/meta.json does not parse here: %s", m.dir,
			e == 1 ? "--help" : err);
		mmb_resume_free(m.argc, m.argv);
		return MMB_EXIT_USAGE;
	}
	mmb_measure_xcols(&m.plan.measure, &m.xcols);
	m.res = calloc(m.plan.ncells, sizeof(*m.res));
	m.src = calloc(m.plan.ncells, sizeof(*m.src));
	m.task_of = malloc(m.plan.ncells * sizeof(*m.task_of));
	if (!m.res || !m.src || !m.task_of) {
		mmb_err("merge: out of memory");
		merge_free(&m);
		return 1;
	}
	for (unsigned i = 0; i < m.plan.ncells; i++)
		m.task_of[i] = -1;
	{
		struct mmb_resdir rd;

		if (!mmb_resdir_open(m.dir, &rd, err, sizeof(err))) {
			mmb_resdir_meta(&rd, "hostname", ",", m.host, sizeof(m.host));
			mmb_resdir_meta(&rd, "cpu_model", ",", m.cpu, sizeof(m.cpu));
			mmb_resdir_close(&rd);
		}
	}
	for (unsigned k = 1; k <= m.nsubs; k++)
		if (merge_read_tasks(&m, k)) {
			merge_free(&m);
			return MMB_EXIT_USAGE;
		}
	if (merge_take_shards(&m) || merge_take_local(&m)) {
		merge_free(&m);
		return MMB_EXIT_USAGE;
	}
	merge_mark_lost(&m);
	for (unsigned i = 0; i < m.plan.ncells; i++) {
		if (!strcmp(m.res[i].status, MMB_ST_LOST))
			nlost++;
		else
			ndone++;
	}

	/* the series first, cells.csv after them, meta.json last (run.c's order) */
	{
		static const struct { const char *name, *header; } series[] = {
			{ "latency.csv", MMB_LATENCY_HEADER },
			{ "timeline.csv", MMB_TL_HEADER },
			{ "faults.csv", "cell,region,phase,t_ns,faults" },
			{ MMB_FRAG_ORDERS_CSV, MMB_FRAG_ORDERS_HEADER },
			{ MMB_SIZE_CLASSES_CSV, MMB_SIZE_CLASSES_HEADER },
		};

		e = 0;
		for (size_t i = 0; !e && i < sizeof(series) / sizeof(series[0]); i++) {
			struct merge_series s = { &m, series[i].name, series[i].header };

			if (!merge_series_exists(&m, s.name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", m.dir, s.name);
			e = mmb_write_atomic(path, merge_series_emit, &s);
		}
	}
	merge_move_state(&m);
	if (!e) {
		snprintf(path, sizeof(path), "%s/nodes.csv", m.dir);
		e = mmb_write_atomic(path, merge_nodes_emit, &m);
	}
	if (!e) {
		snprintf(path, sizeof(path), "%s/cells.csv", m.dir);
		e = mmb_write_atomic(path, merge_cells_emit, &m);
	}
	if (!e) {
		char *slurm = merge_slurm_json(&m);
		struct mmb_meta meta = { .argc = m.argc, .argv = m.argv, .plan = &m.plan,
					 .end = time(NULL), .cells_done = ndone,
					 .state = nlost ? "incomplete" : "complete",
					 .extra_json = slurm };

		mmb_slurm_path(path, sizeof(path), m.dir, 1, "jobs.txt");
		if (!mmb_slurm_kv(path, "submitted", v, sizeof(v)))
			start = (time_t)strtoll(v, NULL, 10);
		meta.start = start ? start : meta.end;
		meta.resumed = m.nsubs > 1;
		e = slurm ? mmb_meta_write(m.dir, &meta) : -ENOMEM;
		free(slurm);
	}
	if (e) {
		mmb_err("merge: cannot write to %s: %s", m.dir, strerror(-e));
		merge_free(&m);
		return 1;
	}
	mmb_run_summary(m.dir);
	if (nlost)
		fprintf(stderr, "merge: %u of %u cells have no result (status lost in cells.csv; "
			"`mmbench run --resume %s [--slurm]` runs them)\n", nlost, m.plan.ncells,
			m.dir);
	printf("%s\n", m.dir);
	merge_free(&m);
	return 0;
}
