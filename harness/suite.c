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
	/* build/mmbench, or build/san-x/mmbench for a sanitized build: look upwards. */
	for (char *dir = dirname(exe); strcmp(dir, "/") && strcmp(dir, "."); dir = dirname(dir)) {
		snprintf(buf, len, "%s/../workloads/suites", dir);
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	return -ENOENT;
}

static int suite_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The suite names in dir, sorted, malloc'ed. Returns the count or -errno. */
static int suite_names(const char *dir, char **names, int max)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);

		if (len > 6 && strcmp(e->d_name + len - 6, ".suite") == 0)
			names[n++] = strndup(e->d_name, len - 6);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), suite_cmp);
	return n;
}

int mmb_suite_list(int verbose)
{
	char dir[4096], path[8192], line[512];
	char *names[256];
	int n;

	if (mmb_suite_dir(dir, sizeof(dir))) {
		mmb_err("list suites: no suites folder (expected workloads/suites beside the "
			"build folder, or MMB_SUITES_DIR)");
		return 1;
	}
	n = suite_names(dir, names, 256);
	if (n < 0) {
		mmb_err("list suites: %s: %s", dir, strerror(-n));
		return 1;
	}
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

/* "unknown suite 'x' (valid: a b c)" */
static void suite_unknown(const char *name, const char *dir, char *err, size_t errlen)
{
	char *names[256];
	int n = suite_names(dir, names, 256);
	size_t off = (size_t)snprintf(err, errlen, "unknown suite '%s' (valid:", name);

	for (int i = 0; i < n; i++) {
		if (off < errlen)
			off += (size_t)snprintf(err + off, errlen - off, " %s", names[i]);
		free(names[i]);
	}
	if (off < errlen)
		snprintf(err + off, errlen - off, ")");
}

/* Split the file into lines of tokens; '#' starts a comment. */
static int suite_tokenize(struct mmb_suite *s, char *err, size_t errlen)
{
	unsigned lineno = 0;
	char *next = s->text;

	while (next && *next) {
		char *line = next, *nl = strchr(line, '\n');
		struct mmb_suite_line *l = &s->lines[s->nlines];
		char *save = NULL;

		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		lineno++;
		line[strcspn(line, "#")] = 0;
		l->lineno = lineno;
		l->argc = 0;
		l->argv[l->argc++] = "suite";
		for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
			if (l->argc == MMB_SUITE_MAX_ARGS + 1) {
				snprintf(err, errlen, "%s:%u: more than %d options on one line", s->path,
					 lineno, MMB_SUITE_MAX_ARGS);
				return -EINVAL;
			}
			l->argv[l->argc++] = tok;
		}
		l->argv[l->argc] = NULL;
		if (l->argc == 1)
			continue;
		if (s->nlines == MMB_SUITE_MAX_LINES - 1) {
			snprintf(err, errlen, "%s:%u: more than %d lines of options", s->path, lineno,
				 MMB_SUITE_MAX_LINES - 1);
			return -EINVAL;
		}
		s->nlines++;
	}
	return 0;
}

int mmb_suite_load(const char *name, struct mmb_suite *r_s, char *err, size_t errlen)
{
	char dir[3072];
	FILE *f;
	long len;
	int rc;

	memset(r_s, 0, sizeof(*r_s));
	if (strchr(name, '/')) {
		snprintf(r_s->path, sizeof(r_s->path), "%s", name);
	} else {
		if (mmb_suite_dir(dir, sizeof(dir))) {
			snprintf(err, errlen, "--suite %s: no suites folder (expected workloads/suites "
				 "beside the build folder, or MMB_SUITES_DIR)", name);
			return -ENOENT;
		}
		snprintf(r_s->path, sizeof(r_s->path), "%s/%.900s.suite", dir, name);
		if (access(r_s->path, F_OK)) {
			suite_unknown(name, dir, err, errlen);
			return -ENOENT;
		}
	}
	f = fopen(r_s->path, "r");
	if (!f) {
		snprintf(err, errlen, "--suite %s: %s: %s", name, r_s->path, strerror(errno));
		return -ENOENT;
	}
	rc = fseek(f, 0, SEEK_END) ? -errno : 0;
	len = rc ? -1 : ftell(f);
	if (len < 0 || len > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		snprintf(err, errlen, "--suite %s: %s: not a readable text file under 1 MiB", name,
			 r_s->path);
		return -EINVAL;
	}
	r_s->text = calloc(1, (size_t)len + 1);
	r_s->lines = calloc(MMB_SUITE_MAX_LINES, sizeof(*r_s->lines));
	if (!r_s->text || !r_s->lines || fread(r_s->text, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		snprintf(err, errlen, "--suite %s: cannot read %s", name, r_s->path);
		mmb_suite_free(r_s);
		return -EIO;
	}
	fclose(f);
	rc = suite_tokenize(r_s, err, errlen);
	if (rc)
		mmb_suite_free(r_s);
	return rc;
}

void mmb_suite_free(struct mmb_suite *s)
{
	free(s->text);
	free(s->lines);
	s->text = NULL;
	s->lines = NULL;
	s->nlines = 0;
}
