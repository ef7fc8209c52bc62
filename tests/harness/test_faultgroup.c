/*
 * test_faultgroup.c — the fault mode per group of cells: a suite line's
 * --faults applies to its group, the command line's to every group, the
 * defaults line's to the groups without their own; one run holds timing
 * and fault-census cells, told apart per cell (cells.csv fault_census),
 * with faults.csv rows only for census cells and meta.json describing both
 * groups; readers (plot, compare) keep census cells apart under the label
 * "WORKLOAD (fault census)"; bad input exits 2 with FILE:LINE.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "../../harness/plan.h"
#include "../../harness/resdir.h"
#include "../../harness/results.h"
#include "../testutil.h"
#include "fixture.h"

/* Write a suite file; its path goes to buf. */
static void fg_suite(char *buf, size_t len, const char *text)
{
	FILE *f;

	mmb_tmpname(buf, len, "fgsuite");
	strcat(buf, ".suite");
	f = fopen(buf, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static int fg_plan(struct mmb_plan *p, char *err, size_t errlen, const char *const *args)
{
	const char *argv[16] = { "run" };
	int argc = 1;

	while (args[argc - 1])
		argv[argc] = args[argc - 1], argc++;
	return mmb_plan_parse(argc, (char **)argv, p, err, errlen);
}

/* Cells of the plan in fault mode m. */
static unsigned fg_cells(const struct mmb_plan *p, enum mmb_fault_mode m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->ncells; i++)
		n += p->cells[i].faults == m;
	return n;
}

Test(faultgroup, plan_modes_per_group)
{
	struct mmb_plan p;
	char path[256], err[512], where[300];

	fg_suite(path, sizeof(path),
		 "# timing and census\n"
		 "-a glibc,bump --ops 100\n"
		 "-w churn\n"
		 "-w churn --faults sigbus\n"
		 "-w sizes --faults auto\n");
	{
		const char *args[] = { "--suite", path, NULL };

		cr_assert_eq(fg_plan(&p, err, sizeof(err), args), 0, "%s", err);
	}
	/* churn twice (timing and sigbus: not one cell), sizes once: 3 x 2 allocators */
	cr_expect_eq(p.ncells, 6);
	cr_expect_eq(fg_cells(&p, MMB_FAULTS_OFF), 2);
	cr_expect_eq(fg_cells(&p, MMB_FAULTS_SIGBUS), 2);
	cr_expect_eq(fg_cells(&p, MMB_FAULTS_AUTO), 2);
	cr_assert_eq(p.nfgroups, 3);
	snprintf(where, sizeof(where), "%s:4", path);
	cr_expect_str_eq(p.fgroups[1].where, where);
	cr_expect_eq(p.fgroups[1].requested, MMB_FAULTS_SIGBUS);
	for (unsigned i = 0; i < p.ncells; i++)
		cr_expect_eq(p.cells[i].faults, p.fgroups[p.cells[i].fg].requested);
	mmb_plan_free(&p);

	/* the command line's --faults replaces every group's: the two churn groups are one */
	{
		const char *args[] = { "--suite", path, "--faults", "off", NULL };

		cr_assert_eq(fg_plan(&p, err, sizeof(err), args), 0, "%s", err);
	}
	cr_expect_eq(p.ncells, 4);
	cr_expect_eq(fg_cells(&p, MMB_FAULTS_OFF), 4);
	mmb_plan_free(&p);
	unlink(path);

	/* a defaults line's --faults is every group's default; a group line's wins */
	fg_suite(path, sizeof(path),
		 "# census by default\n"
		 "-a bump --ops 100 --faults uffd\n"
		 "-w churn\n"
		 "-w sizes --faults off\n");
	{
		const char *args[] = { "--suite", path, NULL };

		cr_assert_eq(fg_plan(&p, err, sizeof(err), args), 0, "%s", err);
	}
	cr_expect_eq(p.ncells, 2);
	cr_expect_eq(p.cells[0].faults, MMB_FAULTS_UFFD, "churn takes the default");
	cr_expect_eq(p.cells[1].faults, MMB_FAULTS_OFF, "sizes has its own");
	mmb_plan_free(&p);
	unlink(path);

	/* the plan-wide --fault-cpu needs a group that runs the uffd handler thread */
	fg_suite(path, sizeof(path), "# x\n-a bump --ops 100 --fault-cpu 0\n-w churn\n"
				     "-w sizes --faults sigbus\n");
	{
		const char *args[] = { "--suite", path, NULL };

		cr_expect_eq(fg_plan(&p, err, sizeof(err), args), -EINVAL);
		cr_expect(strstr(err, "--fault-cpu pins the uffd handler thread"), "%s", err);
	}
	unlink(path);
}

/* A suite line's bad --faults: FILE:LINE, one line, exit 2, no folder. */
Test(faultgroup, bad_mode_on_a_suite_line)
{
	char path[256], dir[256], want[400];
	struct mmb_cmd c;

	fg_suite(path, sizeof(path), "# x\n-a glibc --ops 10\n-w churn\n-w sizes --faults bogus\n");
	mmb_tmpname(dir, sizeof(dir), "fgbad");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--suite", path, NULL);
	cr_expect_eq(c.status, 2, "%s", c.err);
	snprintf(want, sizeof(want), "%s:4: --faults bogus: expected off, uffd, sigbus or auto", path);
	cr_expect(strstr(c.err, want), "wanted '%s' in: %s", want, c.err);
	cr_expect_eq(strchr(c.err, '\n'), strrchr(c.err, '\n'), "one line: %s", c.err);
	cr_expect(!mmb_exists(dir));
	unlink(path);
}

/* Without userfaultfd (simulated): a group that asks for uffd stops the run
 * before any cell, naming its line; auto groups fall back to timing cells. */
Test(faultgroup, unavailable_uffd_per_group)
{
	char path[256], dir[256], buf[65536], want[400];
	struct mmb_result *r;
	struct mmb_cmd c;
	int n;

	setenv("MMB_UFFD_OPEN", "none", 1);
	fg_suite(path, sizeof(path), "# x\n-a bump --ops 100\n-w churn:size=4096\n"
				     "-w churn:size=4096 --faults uffd\n");
	mmb_tmpname(dir, sizeof(dir), "fgnone");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--suite", path, NULL);
	cr_expect_eq(c.status, 2, "%s", c.err);
	snprintf(want, sizeof(want), "--faults uffd (%s:4): userfaultfd cannot work here", path);
	cr_expect(strstr(c.err, want), "wanted '%s' in: %s", want, c.err);
	cr_expect(!mmb_exists(dir));
	unlink(path);

	fg_suite(path, sizeof(path), "# x\n-a bump --ops 100\n-w churn:size=4096\n"
				     "-w churn:size=4096 --faults auto\n");
	mmb_run_cmd(&c, "run", "-q", "-o", dir, "--suite", path, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	snprintf(buf, sizeof(buf), "%s/cells.csv", dir);
	n = mmb_csv_read(buf, &r, want, sizeof(want));
	cr_assert_eq(n, 2, "%s", want);
	for (int i = 0; i < n; i++)
		cr_expect_eq(r[i].m[MMB_M_fault_census], 0, "cell %d ran without a monitor", i + 1);
	snprintf(buf, sizeof(buf), "%s/faults.csv", dir);
	cr_expect(!mmb_exists(buf), "no census cell ran: no faults.csv");
	snprintf(want, sizeof(want), "%s/meta.json", dir);
	mmb_slurp(want, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"mode\": \"off\""), "%s", buf);
	cr_expect(strstr(buf, "\"requested\": \"mixed\""), "%s", buf);
	cr_expect(strstr(buf, "\"run_kind\": \"timing"), "%s", buf);
	cr_expect(strstr(buf, "\"unavailable\": \"userfaultfd disabled by MMB_UFFD_OPEN=none\""),
		  "%s", buf);
	free(r);
	mmb_rm_rf(dir);
	unlink(path);
	unsetenv("MMB_UFFD_OPEN");
}

/*
 * One run, a timing group and a census group of the same cells (bump
 * touches one fresh frame per 4 KiB block): each cell is marked, faults.csv
 * holds only the census cells, meta.json lists both groups, and readers
 * label the census cells apart.
 */
Test(faultgroup, mixed_run, .timeout = 60)
{
	char path[256], dir[256], tdir[256], buf[65536], err[512], where[600];
	struct mmb_resdir rd;
	struct mmb_cmd c;
	double v[16];

	fg_suite(path, sizeof(path), "# x\n-a bump,glibc --ops 400 -r 2 -t 1\n-w churn:size=4096\n"
				     "-w churn:size=4096 --faults uffd\n");
	mmb_tmpname(dir, sizeof(dir), "fgmixed");
	mmb_run_cmd(&c, "run", "-o", dir, "--suite", path, NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "churn (fault census)"), "summary: %s", c.out);

	cr_assert_eq(mmb_resdir_open(dir, &rd, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rd.ncells, 8);
	for (int i = 0; i < rd.ncells; i++) {
		const struct mmb_result *r = &rd.cells[i];
		int census = (i % 4) >= 2;	/* per repetition: timing group, then census */

		cr_expect_str_eq(r->status, "ok", "cell %u: %s", r->cell, r->detail);
		cr_expect_eq(r->m[MMB_M_fault_census], census ? 1 : 0, "cell %u", r->cell);
		cr_expect_str_eq(rd.wlabel[i], census ? "churn (fault census)" : "churn");
		if (!strcmp(r->allocator, "bump") && census)
			cr_expect_eq(r->m[MMB_M_uffd_faults], r->m[MMB_M_footprint_own_end_bytes] / 4096,
				     "cell %u", r->cell);
		else if (!census)
			cr_expect(isnan(r->m[MMB_M_uffd_faults]), "timing cell %u", r->cell);
	}
	/* the timing label's samples are the timing cells only */
	cr_expect_eq(mmb_resdir_samples(&rd, "bump", "churn", 0, "fault_census", v, 16), 2);
	cr_expect(v[0] == 0 && v[1] == 0);
	cr_expect_eq(mmb_resdir_samples(&rd, "bump", "churn (fault census)", 0, "uffd_faults", v, 16),
		     2);
	mmb_resdir_close(&rd);

	/* faults.csv: rows of census cells (bump's: 3 and 7) only */
	snprintf(err, sizeof(err), "%s/faults.csv", dir);
	mmb_slurp(err, buf, sizeof(buf));
	cr_assert(!strncmp(buf, "cell,region,phase,t_ns,faults\n", 30), "%s", buf);
	for (char *line = strchr(buf, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
		unsigned cell = 0;

		cr_assert_eq(sscanf(line, "%u,", &cell), 1, "%s", line);
		cr_expect(cell == 3 || cell == 7, "a row of cell %u: %.40s", cell, line);
	}
	cr_expect(strstr(buf, "\n3,bump,") && strstr(buf, "\n7,bump,"), "%s", buf);

	snprintf(err, sizeof(err), "%s/meta.json", dir);
	mmb_slurp(err, buf, sizeof(buf));
	cr_expect(strstr(buf, "\"mode\": \"mixed\""), "%s", buf);
	cr_expect(strstr(buf, "\"run_kind\": \"mixed: timing cells"), "%s", buf);
	snprintf(where, sizeof(where), "{\"where\": \"%s:3\", \"requested\": \"off\", \"mode\": "
		 "\"off\", \"cells\": 4, \"workloads\": [\"churn:size=4096,batch=1\"]}", path);
	cr_expect(strstr(buf, where), "wanted %s in %s", where, buf);
	snprintf(where, sizeof(where), "{\"where\": \"%s:4\", \"requested\": \"uffd\", \"mode\": "
		 "\"uffd\", \"cells\": 4,", path);
	cr_expect(strstr(buf, where), "wanted %s in %s", where, buf);

	/* compare: census rows meet census rows only */
	mmb_run_cmd(&c, "compare", dir, dir, "-m", "ops_per_sec", "-f", "csv", NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, "ops_per_sec,bump,churn,1,") &&
		  strstr(c.out, "ops_per_sec,bump,churn (fault census),1,"), "%s", c.out);
	mmb_tmpname(tdir, sizeof(tdir), "fgtiming");
	mmb_run_cmd(&c, "run", "-q", "-o", tdir, "-a", "bump", "-w", "churn:size=4096", "--ops",
		    "400", "-t", "1", "--faults", "uffd", NULL);
	cr_assert_eq(c.status, 0, "%s", c.err);
	mmb_run_cmd(&c, "compare", tdir, dir, "-m", "ops_per_sec", "-f", "csv", NULL);
	cr_expect_eq(c.status, 0, "%s", c.err);
	cr_expect(strstr(c.out, ",bump,churn (fault census),1,") &&
		  !strstr(c.out, ",bump,churn,1,"), "a census run met timing cells: %s", c.out);

	/* plot: latency figures per kind; fault figures for the census cells */
	mmb_run_cmd(&c, "plot", dir, NULL);
	cr_assert_eq(c.status, 0, "%s%s", c.out, c.err);
	snprintf(err, sizeof(err), "%s/plots/latency-alloc-churn.png", dir);
	cr_expect(mmb_exists(err), "%s", c.out);
	snprintf(err, sizeof(err), "%s/plots/latency-alloc-churn__fault_census_.png", dir);
	cr_expect(mmb_exists(err), "%s", c.out);
	snprintf(err, sizeof(err), "%s/plots/faults-time-churn__fault_census_.png", dir);
	cr_expect(mmb_exists(err), "%s", c.out);
	cr_expect(strstr(c.out, "faults over time: skipped for churn: no fault rows (timing cells: "
			 "no monitor)"), "%s", c.out);
	snprintf(err, sizeof(err), "%s/plots/faults-time-churn.png", dir);
	cr_expect(!mmb_exists(err), "%s", c.out);
	mmb_rm_rf(tdir);
	mmb_rm_rf(dir);
	unlink(path);
}

/* A folder from before fault_census: meta.json's faults.mode decides. */
Test(faultgroup, older_folder_labels_from_meta)
{
	static const char *const modes[] = { "off", "uffd" };
	struct fx_cell c[4];
	char dir[256], err[512], meta[4096];
	struct mmb_resdir rd;

	for (int k = 0; k < 2; k++) {
		mmb_tmpname(dir, sizeof(dir), "fgold");
		mkdir(dir, 0755);
		snprintf(meta, sizeof(meta), "{\n  \"schema_version\": %d,\n  \"faults\": {\n"
			 "    \"mode\": \"%s\",\n    \"requested\": \"%s\"\n  }\n}\n",
			 MMB_SCHEMA_VERSION, modes[k], modes[k]);
		fx_write(dir, "meta.json", meta);
		c[0] = (struct fx_cell){ "glibc", "", NULL, 1, 1e7, 100, 1 << 20, NULL };
		fx_cells(dir, c, 1, 0);
		cr_assert_eq(mmb_resdir_open(dir, &rd, err, sizeof(err)), 0, "%s", err);
		cr_expect_str_eq(rd.wlabel[0], k ? "churn (fault census)" : "churn");
		mmb_resdir_close(&rd);
		mmb_rm_rf(dir);
	}
}
