/*
 * test_param.c — typed option tables: sizes, bounds, enums, booleans, errors.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "../../allocators/param.h"

static const struct mmb_param tab[] = {
	{ "mem", MMB_P_SIZE, "1G", 4096, 1ULL << 40, NULL, "bytes" },
	{ "n", MMB_P_U64, "3", 1, 10, NULL, "count" },
	{ "f", MMB_P_F64, "0.5", 0, 1, NULL, "fraction" },
	{ "pcp", MMB_P_BOOL, "on", 0, 0, NULL, "lists" },
	{ "dist", MMB_P_ENUM, "pow2", 0, 0, "uniform|pow2|lognormal", "distribution" },
	{ "path", MMB_P_STR, "", 0, 0, NULL, "a path" },
	{ 0 },
};

Test(param, defaults)
{
	struct mmb_pvals v;
	char err[256];

	cr_assert_eq(mmb_params_parse(tab, NULL, "t", &v, err, sizeof(err)), 0);
	cr_expect_eq(mmb_pval_u64(&v, "mem"), 1ULL << 30);
	cr_expect_eq(mmb_pval_u64(&v, "n"), 3);
	cr_expect_float_eq(mmb_pval_f64(&v, "f"), 0.5, 1e-12);
	cr_expect_eq(mmb_pval_u64(&v, "pcp"), 1);
	cr_expect_eq(mmb_pval_u64(&v, "dist"), 1);
	cr_expect_eq(mmb_pval_given(&v, "mem"), 0);
}

Test(param, values_and_format)
{
	struct mmb_pvals v;
	char err[256], buf[256];

	cr_assert_eq(mmb_params_parse(tab, "mem=64M,pcp=off,dist=lognormal,path=/x/y", "t", &v, err,
				      sizeof(err)), 0, "%s", err);
	cr_expect_eq(mmb_pval_u64(&v, "mem"), 64ULL << 20);
	cr_expect_eq(mmb_pval_u64(&v, "pcp"), 0);
	cr_expect_eq(mmb_pval_u64(&v, "dist"), 2);
	cr_expect_str_eq(mmb_pval_str(&v, "path"), "/x/y");
	mmb_params_format(&v, 1, buf, sizeof(buf));
	cr_expect_str_eq(buf, "mem=64M,pcp=off,dist=lognormal,path=/x/y");
}

Test(param, sizes)
{
	uint64_t u;

	cr_expect_eq(mmb_parse_size("4096", &u), 0);
	cr_expect_eq(u, 4096);
	cr_expect_eq(mmb_parse_size("2k", &u), 0);
	cr_expect_eq(u, 2048);
	cr_expect_eq(mmb_parse_size("3GiB", &u), 0);
	cr_expect_eq(u, 3ULL << 30);
	cr_expect_eq(mmb_parse_size("0x10", &u), 0);
	cr_expect_eq(u, 16);
	cr_expect_eq(mmb_parse_size("-1", &u), -EINVAL);
	cr_expect_eq(mmb_parse_size("12Q", &u), -EINVAL);
	cr_expect_eq(mmb_parse_size("", &u), -EINVAL);
	cr_expect_eq(mmb_parse_size("99999999999T", &u), -EINVAL);
}

Test(param, errors_name_the_problem)
{
	struct mmb_pvals v;
	char err[256];

	cr_expect_eq(mmb_params_parse(tab, "bogus=1", "allocator x", &v, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "unknown option 'bogus'") && strstr(err, "mem, n, f"), "%s", err);
	cr_expect_eq(mmb_params_parse(tab, "n=11", "t", &v, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "out of range [1, 10]"), "%s", err);
	cr_expect_eq(mmb_params_parse(tab, "n=abc", "t", &v, err, sizeof(err)), -EINVAL);
	cr_expect_eq(mmb_params_parse(tab, "f=1.5", "t", &v, err, sizeof(err)), -EINVAL);
	cr_expect_eq(mmb_params_parse(tab, "pcp=maybe", "t", &v, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "on or off"), "%s", err);
	cr_expect_eq(mmb_params_parse(tab, "dist=zipf", "t", &v, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "uniform|pow2|lognormal"), "%s", err);
	cr_expect_eq(mmb_params_parse(tab, "mem", "t", &v, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "not key=value"), "%s", err);
	cr_expect_eq(mmb_params_parse(tab, "mem=1", "t", &v, err, sizeof(err)), -EINVAL);
}
