/*
 * resume.h — `mmbench run --resume DIR`: finish an interrupted run.
 *
 * The plan is rebuilt from meta.json's command_line (so the cells, their
 * order and seeds are the ones first planned), results go to DIR whatever
 * -o said, and every cell cells.csv already holds (any status) is kept and
 * skipped; rows of unfinished cells in latency.csv and timeline.csv are
 * dropped first (series.h).
 */
#ifndef MMB_RESUME_H
#define MMB_RESUME_H

#include <stddef.h>

/*
 * Read DIR/meta.json's command_line into a malloc'ed argv (argv[0] = "run",
 * NULL-terminated; free with mmb_resume_free). Returns 0, or -errno with err
 * saying what is wrong with DIR.
 */
int mmb_resume_argv(const char *dir, int *r_argc, char ***r_argv, char *err, size_t errlen);
void mmb_resume_free(int argc, char **argv);

#endif /* MMB_RESUME_H */
