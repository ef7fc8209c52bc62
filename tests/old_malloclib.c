/*
 * old_malloclib.c — a stand-in for a jemalloc or mimalloc library that
 * lacks the entry points the adapters need (too old, or built with a
 * prefix: je_malloc, mi_ names missing). The Makefile builds it as
 * build/tests/old-lib/libjemalloc.so.2 and libmimalloc.so.2; test_prod.c
 * runs mmbench with LD_LIBRARY_PATH pointing there and expects one line
 * naming the missing symbol and exit status 2 (docs/bad-inputs.md).
 */
int mmb_old_malloclib_version(void);

int mmb_old_malloclib_version(void)
{
	return 0;
}
