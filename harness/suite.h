/*
 * suite.h — named suites: plain files in workloads/suites/NAME.suite.
 *
 * The folder is found beside the executable (build/mmbench ->
 * ../workloads/suites), or where MMB_SUITES_DIR says. Each file's first line
 * is a comment ("# what this suite is for") shown by `mmbench list suites`.
 */
#ifndef MMB_SUITE_H
#define MMB_SUITE_H

#include <stddef.h>

/* The suites folder. Returns 0, or -ENOENT when it cannot be found. */
int mmb_suite_dir(char *buf, size_t len);

/* `mmbench list suites`: name and first comment line of each suite. */
int mmb_suite_list(int verbose);

#endif /* MMB_SUITE_H */
