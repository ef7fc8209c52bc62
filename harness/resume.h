/*
 * resume.h — `mmbench run --resume DIR`: finish an interrupted run.
 *
 * The plan is rebuilt from meta.json's command_line (so the cells, their
 * order and seeds are the ones first planned), results go to DIR whatever
 * -o said, and every cell cells.csv already holds (any status) is kept and
 * skipped; rows of unfinished cells in latency.csv and timeline.csv are
 * dropped first (series.h).
 *
 * meta.json is read by the reader compare, plot and report use (resdir.h),
 * with its schema check: a truncated file, another schema_version or a
 * folder that is not a results folder is refused before anything is
 * written. What the kept cells were measured with stays: the run's
 * start_time and the clock's calibration (tsc_hz, read and resolution
 * costs) come from meta.json, and a run with nothing left to do leaves
 * meta.json as it is.
 *
 * The lock: a run (first or resumed) holds DIR/mmbench.lock, an flock'ed
 * file holding its pid, for as long as it runs; a second mmbench on the
 * same folder is refused naming that pid. The kernel drops the lock when the
 * holder exits however it exits; the file is removed on a normal end.
 */
#ifndef MMB_RESUME_H
#define MMB_RESUME_H

#include <stddef.h>
#include <time.h>

#define MMB_LOCK_FILE "mmbench.lock"

struct mmb_resume_meta {
	int argc;
	char **argv;		/* command_line without "mmbench": argv[0] = "run", NULL-terminated */
	time_t start;		/* start_time; 0 if absent */
	double tsc_hz;		/* clock.tsc_hz; 0 if the run used no TSC */
	double read_ns, resolution_ns;	/* clock.read_ns, clock.resolution_ns; NaN if absent */
};

/*
 * Read DIR/meta.json (resdir.h's reader and schema check) into m. Returns 0,
 * or -errno with err saying what is wrong with DIR. Free with
 * mmb_resume_meta_free.
 */
int mmb_resume_read(const char *dir, struct mmb_resume_meta *m, char *err, size_t errlen);
void mmb_resume_meta_free(struct mmb_resume_meta *m);

/*
 * Just the command line (mmb_resume_read's argv): a malloc'ed argv,
 * argv[0] = "run", NULL-terminated; free with mmb_resume_free.
 */
int mmb_resume_argv(const char *dir, int *r_argc, char ***r_argv, char *err, size_t errlen);
void mmb_resume_free(int argc, char **argv);

/*
 * Take DIR's lock. Returns the lock's descriptor (kept open while the run
 * runs), or -errno with err naming the holder's pid (-EBUSY) or the problem.
 */
int mmb_lock_take(const char *dir, char *err, size_t errlen);

/* Remove the lock file and release the lock (fd < 0: nothing). */
void mmb_lock_release(const char *dir, int fd);

#endif /* MMB_RESUME_H */
