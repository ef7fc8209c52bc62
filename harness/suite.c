/*
 * suite.c — finding and listing named suites (suite.h).
 */
#include "suite.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int mmb_suite_dir(char *buf, size_t len)
{
	const char *env = getenv("MMB_SUITES_DIR");
	char exe[4096];
	struct stat st;
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	snprintf(buf, len, "%s/../workloads/suites", dirname(exe));
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

static int suite_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int mmb_suite_list(int verbose)
{
	char dir[4096], path[8192], line[512];
	char *names[256];
	int n = 0;
	DIR *d;
	struct dirent *e;

	if (mmb_suite_dir(dir, sizeof(dir))) {
		mmb_err("list suites: no suites folder (expected workloads/suites beside the "
			"build folder, or MMB_SUITES_DIR)");
		return 1;
	}
	d = opendir(dir);
	if (!d) {
		mmb_err("list suites: %s: %s", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) && n < 256) {
		size_t len = strlen(e->d_name);

		if (len > 6 && strcmp(e->d_name + len - 6, ".suite") == 0)
			names[n++] = strndup(e->d_name, len - 6);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), suite_cmp);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.suite", dir, names[i]);
		mmb_read_line(path, line, sizeof(line));
		printf("%-16s %s\n", names[i], line[0] == '#' ? line + 1 + (line[1] == ' ') : "");
		if (verbose) {
			FILE *f = fopen(path, "r");

			while (f && fgets(line, sizeof(line), f))
				if (line[0] != '#' && line[0] != '\n')
					printf("    %s", line);
			if (f)
				fclose(f);
		}
		free(names[i]);
	}
	return 0;
}
