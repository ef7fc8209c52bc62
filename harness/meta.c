/*
 * meta.c — meta.json writer (meta.h).
 */
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"

#ifndef MMB_GIT_REV
#define MMB_GIT_REV "unknown"
#endif

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon += 2;
			colon[strcspn(colon, "\n")] = 0;
			snprintf(buf, len, "%s", colon);
			break;
		}
	}
	fclose(f);
}

static void json_time(FILE *f, time_t t)
{
	char buf[32];

	if (!t) {
		fputs("null", f);
		return;
	}
	mmb_utc_iso(t, buf, sizeof(buf));
	mmb_json_str(f, buf);
}

/* A group's entry: where, requested, mode, its cells and their workloads. */
static void meta_fault_group(FILE *f, const struct mmb_plan *p, unsigned g)
{
	const struct mmb_fault_group *fg = &p->fgroups[g];
	unsigned ncells = 0, nwl = 0;

	fputs("{\"where\": ", f);
	mmb_json_str(f, fg->where);
	fputs(", \"requested\": ", f);
	mmb_json_str(f, mmb_fault_mode_names[fg->requested]);
	fputs(", \"mode\": ", f);
	mmb_json_str(f, mmb_fault_mode_names[fg->mode]);
	for (unsigned i = 0; i < p->ncells; i++)
		ncells += p->cells[i].fg == g;
	fprintf(f, ", \"cells\": %u, \"workloads\": [", ncells);
	for (unsigned w = 0; w < p->nwconf; w++) {
		unsigned i = 0;

		while (i < p->ncells && !(p->cells[i].fg == g && p->cells[i].wi == w))
			i++;
		if (i == p->ncells)
			continue;
		fputs(nwl++ ? ", " : "", f);
		mmb_json_str(f, p->wconf[w].spec);
	}
	fputs("]}", f);
}

/*
 * "faults": the fault mode of every group of cells, so timing cells and
 * fault-census cells are never mixed up (cells.csv fault_census says it per
 * cell). mode and requested are one mode, or "mixed" when groups differ.
 */
static void meta_faults(FILE *f, const struct mmb_meta *m)
{
	const struct mmb_plan *p = m->plan;
	enum mmb_fault_mode mode = p->cells[0].faults, req = p->fgroups[0].requested;
	int on = 0, off = 0, uffd = 0, mixed = 0, mixed_req = 0;

	for (unsigned i = 0; i < p->ncells; i++) {
		on |= p->cells[i].faults != MMB_FAULTS_OFF;
		off |= p->cells[i].faults == MMB_FAULTS_OFF;
		uffd |= p->cells[i].faults == MMB_FAULTS_UFFD;
		mixed |= p->cells[i].faults != mode;
	}
	for (unsigned g = 0; g < p->nfgroups; g++)
		mixed_req |= p->fgroups[g].requested != req;
	fputs(",\n  \"faults\": {\n    \"mode\": ", f);
	mmb_json_str(f, mixed ? "mixed" : mmb_fault_mode_names[mode]);
	fputs(",\n    \"requested\": ", f);
	mmb_json_str(f, mixed_req ? "mixed" : mmb_fault_mode_names[req]);
	fputs(",\n    \"run_kind\": ", f);
	mmb_json_str(f, on && off ? "mixed: timing cells (cells.csv fault_census 0) and fault "
				    "census cells (fault_census 1 or 2: latencies include fault handling)" :
			on ? "fault census: latencies include fault handling" :
			     "timing: no fault monitor, kernel counts only");
	fputs(",\n    \"groups\": [", f);
	for (unsigned g = 0; g < p->nfgroups; g++) {
		fputs(g ? ",\n      " : "\n      ", f);
		meta_fault_group(f, p, g);
	}
	fputs("\n    ]", f);
	if (uffd && p->fault_cpu >= 0)
		fprintf(f, ",\n    \"handler_cpu\": %d", p->fault_cpu);
	else
		fputs(",\n    \"handler_cpu\": null", f);
	fprintf(f, ",\n    \"fault_log\": %u,\n    \"uffd_open\": ", on ? p->fault_log : 0);
	if (on && m->fault_info) {
		mmb_json_str(f, m->fault_info->open_path);
		fprintf(f, ",\n    \"kernel_faults_trapped\": %s,\n    \"features\": \"0x%llx\"",
			m->fault_info->kernel_faults ? "true" : "false",
			(unsigned long long)m->fault_info->features);
	} else {
		fputs("null,\n    \"kernel_faults_trapped\": null,\n    \"features\": null", f);
	}
	fputs(",\n    \"unavailable\": ", f);
	if (m->fault_why)
		mmb_json_str(f, m->fault_why);
	else
		fputs("null", f);
	fputs("\n  }", f);
}

static int meta_emit(FILE *f, void *ctx)
{
	const struct mmb_meta *m = ctx;
	const struct mmb_plan *p = m->plan;
	struct utsname u;
	char buf[512], host[256] = "";

	uname(&u);
	gethostname(host, sizeof(host) - 1);
	fprintf(f, "{\n  \"schema_version\": %d,\n  \"mmbench_version\": ", MMB_SCHEMA_VERSION);
	mmb_json_str(f, MMB_VERSION);
	fputs(",\n  \"git_revision\": ", f);
	mmb_json_str(f, MMB_GIT_REV);
	fputs(",\n  \"command_line\": [\"mmbench\"", f);
	for (int i = 0; i < m->argc; i++) {
		fputs(", ", f);
		mmb_json_str(f, m->argv[i]);
	}
	fputs("],\n  \"compiler\": ", f);
	mmb_json_str(f, "gcc " __VERSION__);
	snprintf(buf, sizeof(buf), "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
	fputs(",\n  \"kernel\": ", f);
	mmb_json_str(f, buf);
	fputs(",\n  \"hostname\": ", f);
	mmb_json_str(f, host);
	cpu_model(buf, sizeof(buf));
	fputs(",\n  \"cpu_model\": ", f);
	mmb_json_str(f, buf);
	fprintf(f, ",\n  \"online_cpus\": %ld", sysconf(_SC_NPROCESSORS_ONLN));
	fputs(",\n  \"start_time\": ", f);
	json_time(f, m->start);
	fputs(",\n  \"end_time\": ", f);
	json_time(f, m->end);
	fputs(",\n  \"state\": ", f);
	mmb_json_str(f, m->state);
	fprintf(f, ",\n  \"seed\": %llu,\n  \"ops_per_thread\": %llu,\n  \"duration_s\": %g,\n"
		   "  \"cell_timeout_s\": %g,\n  \"op_equivalent\": %s,\n"
		   "  \"accounting\": \"%s\",\n  \"reps\": %u,\n  \"threads\": [",
		(unsigned long long)p->seed, (unsigned long long)p->ops, p->duration_s,
		p->cell_timeout_s, p->op_equivalent ? "true" : "false",
		p->accounting > 0 ? "exact" : "off", p->reps);
	for (unsigned i = 0; i < p->nthreads; i++)
		fprintf(f, "%s%u", i ? ", " : "", p->threads[i]);
	fputs("],\n  \"allocators\": [", f);
	for (unsigned i = 0; i < p->naconf; i++) {
		fputs(i ? ", " : "", f);
		mmb_json_str(f, p->aconf[i].spec);
	}
	fputs("],\n  \"workloads\": [", f);
	for (unsigned i = 0; i < p->nwconf; i++) {
		fputs(i ? ", " : "", f);
		mmb_json_str(f, p->wconf[i].spec);
	}
	fputc(']', f);
	mmb_measure_json(f, &p->measure);
	fprintf(f, ",\n  \"cells_planned\": %u,\n  \"cells_done\": %u,\n  \"resumed\": %s",
		p->ncells, m->cells_done, m->resumed ? "true" : "false");
	meta_faults(f, m);
	if (m->extra_json)
		fprintf(f, ",\n%s", m->extra_json);
	fputs("\n}\n", f);
	return ferror(f) ? -EIO : 0;
}

int mmb_meta_write(const char *dir, const struct mmb_meta *m)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	return mmb_write_atomic(path, meta_emit, (void *)m);
}
