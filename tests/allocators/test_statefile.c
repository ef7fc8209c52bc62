/*
 * test_statefile.c — atomic file replacement (allocators/statefile.h): the
 * new contents land whole, a failing writer leaves the old file and no
 * temporary behind, and bad paths are refused with -errno.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "../../allocators/statefile.h"
#include "../testutil.h"

static int put_text(FILE *f, void *ctx)
{
	fputs(ctx, f);
	return 0;
}

static int put_then_fail(FILE *f, void *ctx)
{
	fputs(ctx, f);
	return -ENOSPC;
}

/* Entries in dir besides . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

Test(statefile, replaces_whole_or_not_at_all)
{
	char dir[256], path[512], buf[64];

	mmb_tmpname(dir, sizeof(dir), "statefile");
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/counters", dir);

	cr_assert_eq(mmb_state_write(dir, "counters", put_text, "allocs 1\n"), 0);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect_str_eq(buf, "allocs 1\n");
	cr_assert_eq(mmb_write_atomic(path, put_text, "allocs 2\n"), 0);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect_str_eq(buf, "allocs 2\n");

	cr_expect_eq(mmb_state_write(dir, "counters", put_then_fail, "allocs 3\n"), -ENOSPC);
	mmb_slurp(path, buf, sizeof(buf));
	cr_expect_str_eq(buf, "allocs 2\n", "a failed write touched the file");
	cr_expect_eq(entries(dir), 1, "a temporary was left behind");
	mmb_rm_rf(dir);
}

Test(statefile, bad_paths_are_refused)
{
	char dir[256], name[5000];

	mmb_tmpname(dir, sizeof(dir), "statefile-missing");
	cr_expect_eq(mmb_state_write(dir, "counters", put_text, "x\n"), -ENOENT);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	cr_expect_eq(mmb_state_write("/tmp", name, put_text, "x\n"), -ENAMETOOLONG);
	cr_expect_eq(mmb_write_atomic(name, put_text, "x\n"), -ENAMETOOLONG);
}
