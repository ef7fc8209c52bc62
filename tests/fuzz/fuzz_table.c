/*
 * fuzz_table.c — libFuzzer target: the results folder's side-file reader
 * (mmb_table_read, table.h) that plots and compare use for latency.csv,
 * timeline.csv, faults.csv and cells.csv's dynamic columns.
 *
 * Input: the file's bytes (in a memfd). Checked: the reader returns 0 or
 * -errno with a one-line message; a table it returns has ncols names and
 * nrows rows of exactly ncols fields, every field readable as text and as
 * a number (NaN allowed), column lookup finds each name at or before its
 * own index; mmb_table_free releases everything (LeakSanitizer checks).
 */
#include <string.h>

#include "../../harness/table.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[1024] = "";
	int fd = fuzz_file(data, size, path, sizeof(path)), rc;
	struct mmb_table t;

	rc = mmb_table_read(path, &t, err, sizeof(err));
	close(fd);
	if (rc) {
		if (rc > 0 || !err[0] || strchr(err, '\n'))
			fuzz_fail("read failed (%d) without a one-line message: '%s'", rc, err);
		return 0;
	}
	if (t.ncols < 0 || t.nrows < 0 || (t.nrows && !t.ncols))
		fuzz_fail("%d columns, %d rows", t.ncols, t.nrows);
	for (int c = 0; c < t.ncols; c++) {
		int found = mmb_table_col(&t, t.cols[c]);

		if (found < 0 || found > c)
			fuzz_fail("column %d '%s' found at %d", c, t.cols[c], found);
	}
	for (int r = 0; r < t.nrows; r++)
		for (int c = -1; c < t.ncols; c++) {
			const char *v = mmb_table_str(&t, r, c);

			if (!v || (c < 0 && v[0]))
				fuzz_fail("row %d col %d: '%s'", r, c, v ? v : "(null)");
			(void)mmb_table_num(&t, r, c);
		}
	mmb_table_free(&t);
	return 0;
}
