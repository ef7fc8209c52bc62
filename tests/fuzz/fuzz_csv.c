/*
 * fuzz_csv.c — libFuzzer target: the cells.csv reader used by compare
 * (mmb_csv_read, results.h), and its round trip through the writer.
 *
 * Input: the file's bytes (in a memfd). Checked: the reader returns rows
 * or -errno with a one-line message; the rows it returns, written back with
 * mmb_csv_write_header/row (with the dynamic columns they hold) and read
 * again, give the same count, and
 * writing those gives the same text byte for byte (the writer's output is
 * always readable, and reading loses nothing the writer wrote).
 */
#include <string.h>

#include "../../harness/results.h"
#include "fuzz.h"

/* The dynamic columns the rows hold, in order of first appearance. */
static void fzc_xcols(const struct mmb_result *rows, int n, struct mmb_xcols *xc)
{
	memset(xc, 0, sizeof(*xc));
	for (int i = 0; i < n; i++)
		for (unsigned k = 0; k < rows[i].nx; k++) {
			unsigned j = 0;

			while (j < xc->n && strcmp(xc->name[j], rows[i].x[k].name))
				j++;
			if (j == xc->n && xc->n < MMB_XCOL_MAX)
				snprintf(xc->name[xc->n++], MMB_XCOL_NAME, "%s", rows[i].x[k].name);
		}
}

/* Write rows into a memfd; returns the fd, path filled. */
static int fzc_write(const struct mmb_result *rows, int n, char *path, size_t len, char **r_text,
		     size_t *r_len)
{
	static struct mmb_xcols xc;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	int fd;

	fzc_xcols(rows, n, &xc);
	if (!f || mmb_csv_write_header(f, &xc))
		fuzz_fail("writing the header");
	for (int i = 0; i < n; i++)
		if (mmb_csv_write_row(f, &rows[i], &xc))
			fuzz_fail("writing row %d", i);
	fclose(f);
	fd = fuzz_file((const uint8_t *)text, tlen, path, len);
	*r_text = text;
	*r_len = tlen;
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], path2[64], path3[64], err[1024] = "";
	struct mmb_result *rows = NULL, *rows2 = NULL;
	char *t1, *t2;
	size_t l1, l2;
	int fd = fuzz_file(data, size, path, sizeof(path)), fd2, fd3, n, n2;

	n = mmb_csv_read(path, &rows, err, sizeof(err));
	close(fd);
	if (n < 0) {
		if (!err[0] || strchr(err, '\n'))
			fuzz_fail("read failed (%d) without a one-line message: '%s'", n, err);
		return 0;
	}
	fd2 = fzc_write(rows, n, path2, sizeof(path2), &t1, &l1);
	n2 = mmb_csv_read(path2, &rows2, err, sizeof(err));
	if (n2 != n)
		fuzz_fail("%d rows read, written back and read again: %d (%s)", n, n2, err);
	fd3 = fzc_write(rows2, n2, path3, sizeof(path3), &t2, &l2);
	if (l1 != l2 || memcmp(t1, t2, l1))
		fuzz_fail("rows written, read and written again differ:\n%.*s\n---\n%.*s", (int)l1, t1,
			  (int)l2, t2);
	close(fd2);
	close(fd3);
	free(t1);
	free(t2);
	free(rows);
	free(rows2);
	return 0;
}
