/*
 * series.c — latency.csv and timeline.csv files (series.h).
 */
#include "series.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int series_header(FILE *f, void *ctx)
{
	fprintf(f, "%s\n", (const char *)ctx);
	return ferror(f) ? -EIO : 0;
}

int mmb_series_create(const char *dir, const char *name, const char *header)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return mmb_write_atomic(path, series_header, (void *)header);
}

int mmb_series_append(const char *dir, const char *name, const char *rows, size_t len)
{
	char path[4200];
	FILE *f;
	int rc = 0;

	off_t size0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "a");
	if (!f)
		return -errno;
	setvbuf(f, NULL, _IONBF, 0);	/* nothing left in a buffer to flush after a failure */
	size0 = lseek(fileno(f), 0, SEEK_END);
	errno = 0;
	if (len && fwrite(rows, 1, len, f) != len)
		rc = errno ? -errno : -EIO;	/* ENOSPC says more than EIO */
	if (!rc && fflush(f))
		rc = -errno;
	if (!rc && fsync(fileno(f)))
		rc = -errno;
	/* A full disk must not leave half a row: cut the file back. */
	if (rc && size0 >= 0 && ftruncate(fileno(f), size0))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

struct series_keep {
	FILE *in;
	const char *header;
	const unsigned char *keep;
	unsigned ncells;
};

static int series_filter(FILE *f, void *ctx)
{
	struct series_keep *k = ctx;
	char *line = NULL;
	size_t cap = 0;
	int first = 1;

	fprintf(f, "%s\n", k->header);
	while (k->in && getline(&line, &cap, k->in) > 0) {
		char *end;
		unsigned long cell = strtoul(line, &end, 10);

		if (first) {
			first = 0;
			continue;	/* the old header */
		}
		if (end != line && *end == ',' && cell >= 1 && cell <= k->ncells && k->keep[cell - 1] &&
		    strchr(line, '\n'))
			fputs(line, f);
	}
	free(line);
	return ferror(f) ? -EIO : 0;
}

int mmb_series_keep(const char *dir, const char *name, const char *header,
		    const unsigned char *keep, unsigned ncells)
{
	char path[4200];
	struct series_keep k = { NULL, header, keep, ncells };
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	k.in = fopen(path, "r");
	if (!k.in && errno != ENOENT)
		return -errno;
	rc = mmb_write_atomic(path, series_filter, &k);
	if (k.in)
		fclose(k.in);
	return rc;
}
