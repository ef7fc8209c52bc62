/*
 * preload.c — any malloc library, put in front of the cell's process with
 * LD_PRELOAD: `preload:/path/libfoo.so` (preload.h for the shared part).
 *
 * `preload:PATH`: exec_env appends PATH to LD_PRELOAD; in the cell, create()
 * checks with dladdr that malloc really comes from PATH (a library that is
 * not first, or is refused by the loader, would otherwise be measured as
 * something it is not) and fails the cell when it does not. Bare `preload`
 * (no path) measures whatever library already serves malloc in the process,
 * e.g. one the user put in LD_PRELOAD of mmbench itself; the results name
 * it either way (malloc_provider).
 *
 * Bad input is found before any cell runs (validate): the path must exist
 * and be a 64-bit ELF shared object that defines malloc and free, read from
 * its dynamic symbol table without loading it.
 *
 * Stats: a generic library has no statistics interface, so footprint is the
 * growth of the process's resident set since create() (/proc/self/statm),
 * which in a cell's process is the allocator's pages plus the harness's few
 * own. Usable bytes are not measured (no interface to ask).
 */
#include "allocator.h"
#include "preload.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int mmb_sym_provider(const char *sym, char *buf, size_t len)
{
	void *p = dlsym(RTLD_DEFAULT, sym);
	char real[PATH_MAX];
	Dl_info di;

	if (!p || !dladdr(p, &di) || !di.dli_fname)
		return -ENOENT;
	snprintf(buf, len, "%s", realpath(di.dli_fname, real) ? real : di.dli_fname);
	return 0;
}

int mmb_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The library (load base) that defines sym in the global scope, or NULL. */
static void *procmalloc_sym(const char *sym, void **r_base)
{
	void *p = dlsym(RTLD_DEFAULT, sym);
	Dl_info di;

	*r_base = NULL;
	if (p && dladdr(p, &di))
		*r_base = di.dli_fbase;
	return p;
}

int mmb_procmalloc_lookup(struct mmb_procmalloc *pm, char *err, size_t errlen)
{
	static const char *const align_syms[] = { "memalign", "aligned_alloc" };
	void *base, *b;

	pm->malloc = (void *(*)(size_t))procmalloc_sym("malloc", &base);
	if (!pm->malloc || !base || mmb_sym_provider("malloc", pm->provider, sizeof(pm->provider))) {
		snprintf(err, errlen, "cannot find the library that serves malloc");
		return -ENOTSUP;
	}
	pm->free = (void (*)(void *))procmalloc_sym("free", &b);
	if (!pm->free || b != base)
		goto mixed_free;
	pm->usable_size = (size_t (*)(void *))procmalloc_sym("malloc_usable_size", &b);
	if (!pm->usable_size || b != base)
		goto mixed_usable;
	pm->memalign = NULL;
	for (size_t i = 0; i < sizeof(align_syms) / sizeof(align_syms[0]) && !pm->memalign; i++) {
		pm->memalign = (void *(*)(size_t, size_t))procmalloc_sym(align_syms[i], &b);
		if (b != base)
			pm->memalign = NULL;
	}
	if (!pm->memalign) {
		snprintf(err, errlen, "%s defines malloc but not memalign or aligned_alloc",
			 pm->provider);
		return -ENOTSUP;
	}
	return 0;
mixed_free:
	snprintf(err, errlen, "%s defines malloc but free comes from another library", pm->provider);
	return -ENOTSUP;
mixed_usable:
	snprintf(err, errlen, "%s defines malloc but not malloc_usable_size", pm->provider);
	return -ENOTSUP;
}

/* Does the dynamic symbol table of the ELF image (len bytes) define name? */
static int elf_defines(const unsigned char *img, size_t len, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;

	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len)
		return 0;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);

	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_entsize != sizeof(Elf64_Sym) || sh[i].sh_offset + sh[i].sh_size > len)
			continue;
		const Elf64_Shdr *str = &sh[sh[i].sh_link];
		const Elf64_Sym *sym = (const Elf64_Sym *)(img + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(Elf64_Sym);

		if (str->sh_offset + str->sh_size > len)
			return 0;
		for (size_t k = 0; k < n; k++) {
			int bind = ELF64_ST_BIND(sym[k].st_info);

			if (sym[k].st_shndx == SHN_UNDEF || sym[k].st_name >= str->sh_size ||
			    (bind != STB_GLOBAL && bind != STB_WEAK))
				continue;
			const char *s = (const char *)img + str->sh_offset + sym[k].st_name;

			if (strnlen(s, str->sh_size - sym[k].st_name) < str->sh_size - sym[k].st_name &&
			    strcmp(s, name) == 0)
				return 1;
		}
	}
	return 0;
}

int mmb_malloc_lib_check(const char *path, char *err, size_t errlen)
{
	static const char *const need[] = { "malloc", "free" };
	const Elf64_Ehdr *eh;
	struct stat st;
	void *img;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? -ENOENT : -EINVAL;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
		close(fd);
		snprintf(err, errlen, "%s: not an ELF shared library", path);
		return -EINVAL;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (img == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	eh = img;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_type != ET_DYN || eh->e_machine != EM_X86_64) {
		snprintf(err, errlen, "%s: not a 64-bit x86-64 ELF shared library", path);
		rc = -EINVAL;
	}
	for (size_t i = 0; !rc && i < sizeof(need) / sizeof(need[0]); i++)
		if (!elf_defines(img, (size_t)st.st_size, need[i])) {
			snprintf(err, errlen, "%s: does not define %s: not a malloc library", path,
				 need[i]);
			rc = -EINVAL;
		}
	munmap(img, (size_t)st.st_size);
	return rc;
}

void mmb_preload_setenv(const char *path)
{
	const char *old = getenv("LD_PRELOAD");
	char buf[8192];

	if (old && *old)
		snprintf(buf, sizeof(buf), "%s:%s", old, path);
	else
		snprintf(buf, sizeof(buf), "%s", path);
	setenv("LD_PRELOAD", buf, 1);
}

size_t mmb_rss_bytes(void)
{
	unsigned long size_pages, resident_pages;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%lu %lu", &size_pages, &resident_pages);
	fclose(f);
	return n == 2 ? resident_pages * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* ---- the preload:PATH adapter ---- */

struct mmb_alloc {
	struct mmb_procmalloc pm;
	size_t base_rss_bytes;
};

static const struct mmb_param preload_opts[] = {
	{ "path", MMB_P_STR, "", 0, 0, NULL,
	  "malloc library to LD_PRELOAD into the cell (empty: the process's own malloc)" },
	{ 0 },
};

static int preload_validate(const struct mmb_alloc_cfg *cfg, char *err, size_t errlen)
{
	const char *path = mmb_pval_str(&cfg->opts, "path");
	char why[MMB_ERR_MAX];
	int rc;

	if (!*path)
		return 0;
	if (!strchr(path, '/')) {
		snprintf(err, errlen, "preload: '%s': give the library's path (as in LD_PRELOAD)",
			 path);
		return -EINVAL;
	}
	rc = mmb_malloc_lib_check(path, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "preload: %s", why);
		return rc;
	}
	if (MMB_ASAN_OWNS_MALLOC) {
		snprintf(err, errlen, "preload: this build uses AddressSanitizer, which owns malloc");
		return -ENOTSUP;
	}
	return 0;
}

static void preload_exec_env(const struct mmb_alloc_cfg *cfg)
{
	const char *path = mmb_pval_str(&cfg->opts, "path");

	if (*path)
		mmb_preload_setenv(path);
}

static int preload_create(const struct mmb_alloc_cfg *cfg, struct mmb_alloc **r_a, char *err,
			  size_t errlen)
{
	const char *path = mmb_pval_str(&cfg->opts, "path");
	struct mmb_procmalloc pm;
	struct mmb_alloc *a;
	char why[MMB_ERR_MAX];

	if (mmb_procmalloc_lookup(&pm, why, sizeof(why))) {
		snprintf(err, errlen, "preload: %s", why);
		return -ENOTSUP;
	}
	if (*path && !mmb_same_file(path, pm.provider)) {
		snprintf(err, errlen, "preload: malloc here is served by %s, not %s (not preloaded?)",
			 pm.provider, path);
		return -ENOTSUP;
	}
	a = pm.malloc(sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "preload: out of memory");
		return -ENOMEM;
	}
	a->pm = pm;
	a->base_rss_bytes = mmb_rss_bytes();
	*r_a = a;
	return 0;
}

static void preload_destroy(struct mmb_alloc *a)
{
	a->pm.free(a);
}

static void *preload_alloc(struct mmb_alloc *a, size_t size, size_t align)
{
	if (align <= 8)		/* malloc(1) may be only 8-aligned (size classes) */
		return a->pm.malloc(size);
	return a->pm.memalign(align, size);
}

static void preload_free(struct mmb_alloc *a, void *p, size_t size)
{
	(void)size;
	a->pm.free(p);
}

static size_t preload_usable_size(struct mmb_alloc *a, const void *p)
{
	return a->pm.usable_size((void *)p);
}

static void preload_stats(struct mmb_alloc *a, struct mmb_alloc_stats *r_st)
{
	size_t rss = mmb_rss_bytes();

	if (rss)
		r_st->footprint_bytes = rss > a->base_rss_bytes ? rss - a->base_rss_bytes : 0;
	r_st->malloc_provider = a->pm.provider;
}

const struct mmb_alloc_ops mmb_preload_ops = {
	.name = "preload",
	.desc = "any malloc library through LD_PRELOAD: preload:/path/lib.so (footprint = RSS growth)",
	.opts = preload_opts,
	.validate = preload_validate,
	.exec_env = preload_exec_env,
	.create = preload_create,
	.destroy = preload_destroy,
	.alloc = preload_alloc,
	.free = preload_free,
	.usable_size = preload_usable_size,
	.stats = preload_stats,
};
