/*
 * test_registry.c — allocator and workload registries, config parsing.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "../../allocators/allocator.h"
#include "../../workloads/workload.h"

Test(registry, lookup)
{
	cr_assert_not_null(mmb_alloc_find("glibc"));
	cr_expect_str_eq(mmb_alloc_find("glibc")->name, "glibc");
	cr_expect_null(mmb_alloc_find("nosuch"));
	cr_assert_not_null(mmb_wl_find("churn"));
	cr_expect_null(mmb_wl_find("nosuch"));
}

Test(registry, names_unique_and_described)
{
	for (size_t i = 0; i < mmb_nallocators; i++) {
		cr_expect(mmb_allocators[i]->desc && *mmb_allocators[i]->desc);
		cr_expect_eq(mmb_alloc_find(mmb_allocators[i]->name), mmb_allocators[i],
			     "duplicate allocator name %s", mmb_allocators[i]->name);
	}
	for (size_t i = 0; i < mmb_nworkloads; i++) {
		cr_expect(mmb_workloads[i]->desc && *mmb_workloads[i]->desc);
		cr_expect_eq(mmb_wl_find(mmb_workloads[i]->name), mmb_workloads[i]);
	}
}

Test(registry, defaults_of_every_table_parse)
{
	struct mmb_pvals v;
	char err[256];

	for (size_t i = 0; i < mmb_nallocators; i++)
		cr_expect_eq(mmb_params_parse(mmb_allocators[i]->opts, NULL, "t", &v, err, sizeof(err)),
			     0, "%s: %s", mmb_allocators[i]->name, err);
	for (size_t i = 0; i < mmb_nworkloads; i++)
		cr_expect_eq(mmb_params_parse(mmb_workloads[i]->params, NULL, "t", &v, err, sizeof(err)),
			     0, "%s: %s", mmb_workloads[i]->name, err);
}

Test(registry, parse_config)
{
	const struct mmb_alloc_ops *ops;
	struct mmb_alloc_cfg cfg;
	char err[256];

	cr_assert_eq(mmb_alloc_parse_config("glibc:arena_max=2", &ops, &cfg, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_str_eq(ops->name, "glibc");
	cr_expect_eq(mmb_pval_u64(&cfg.opts, "arena_max"), 2);
	cr_expect_eq(mmb_alloc_parse_config("nosuch", &ops, &cfg, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "unknown allocator 'nosuch'") && strstr(err, "glibc"), "%s", err);
	cr_expect(!strstr(err, "crashy"), "hidden allocators are not offered: %s", err);
	cr_expect_eq(mmb_alloc_parse_config("glibc:bogus=1", &ops, &cfg, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "bogus"), "%s", err);
	/* A bare value sets the first option (the preload:PATH form). */
	cr_assert_eq(mmb_alloc_parse_config("crashy:never", &ops, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(mmb_pval_u64(&cfg.opts, "fail"), 2);
}
