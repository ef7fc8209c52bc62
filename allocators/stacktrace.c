/*
 * stacktrace.c — saving and naming call stacks (stacktrace.h).
 *
 * Data structure: one array of struct st_sym {start, size, name} for the
 * functions of every object loaded when mmb_stack_symbols_load() ran,
 * sorted by start; names live in one string pool. Both are written once
 * under st_once and only read afterwards.
 *
 * Stacks are saved with backtrace(3) (the unwinder, since the build keeps
 * no frame pointers). Its first call loads libgcc_s, so the load function
 * makes one call, after which backtrace is safe in a fault handler.
 */
#include "stacktrace.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct st_sym {
	uintptr_t start;
	size_t size;
	const char *name;
};

static struct st_sym *st_syms;
static size_t st_nsyms, st_cap;
static char *st_pool;
static size_t st_pool_len, st_pool_cap;
static pthread_once_t st_once = PTHREAD_ONCE_INIT;
static int st_load_rc;

int mmb_stack_save(uintptr_t *trace, int max, int skip)
{
	void *buf[MMB_STACK_DEPTH + 8];
	int want = max + skip + 1, n;

	if (want > (int)(sizeof(buf) / sizeof(buf[0])))
		want = (int)(sizeof(buf) / sizeof(buf[0]));
	n = backtrace(buf, want);
	n -= skip + 1;
	if (n < 0)
		n = 0;
	for (int i = 0; i < n; i++)
		trace[i] = (uintptr_t)buf[i + skip + 1];
	return n;
}

static int st_add(uintptr_t start, size_t size, const char *name)
{
	size_t len = strlen(name) + 1;

	if (st_nsyms == st_cap) {
		size_t cap = st_cap ? st_cap * 2 : 4096;
		struct st_sym *s = realloc(st_syms, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		st_syms = s;
		st_cap = cap;
	}
	if (st_pool_len + len > st_pool_cap) {
		size_t cap = st_pool_cap ? st_pool_cap * 2 : 1 << 16;
		char *p;

		while (cap < st_pool_len + len)
			cap *= 2;
		p = realloc(st_pool, cap);
		if (!p)
			return -ENOMEM;
		/* names are kept as offsets until the pool stops moving */
		st_pool = p;
		st_pool_cap = cap;
	}
	memcpy(st_pool + st_pool_len, name, len);
	st_syms[st_nsyms++] = (struct st_sym){ start, size, (const char *)(uintptr_t)st_pool_len };
	st_pool_len += len;
	return 0;
}

/* The functions of one ELF file loaded at bias. */
static int st_read_elf(const char *path, uintptr_t bias)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh, *tab = NULL;
	struct stat sb;
	uint8_t *m;
	int rc = 0;

	if (fd < 0)
		return 0;	/* nothing to read: named through dladdr */
	if (fstat(fd, &sb) || (size_t)sb.st_size < sizeof(Elf64_Ehdr)) {
		close(fd);
		return 0;
	}
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	eh = (const Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > (uint64_t)sb.st_size)
		goto out;
	sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_SYMTAB || (sh[i].sh_type == SHT_DYNSYM && !tab))
			tab = &sh[i];
	if (!tab || tab->sh_link >= eh->e_shnum || tab->sh_entsize != sizeof(Elf64_Sym))
		goto out;
	{
		const Elf64_Shdr *strs = &sh[tab->sh_link];
		const Elf64_Sym *sym = (const Elf64_Sym *)(m + tab->sh_offset);
		size_t n = tab->sh_size / sizeof(Elf64_Sym);

		if (tab->sh_offset + tab->sh_size > (uint64_t)sb.st_size ||
		    strs->sh_offset + strs->sh_size > (uint64_t)sb.st_size)
			goto out;
		for (size_t i = 0; i < n && !rc; i++) {
			if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || !sym[i].st_value ||
			    sym[i].st_shndx == SHN_UNDEF || sym[i].st_name >= strs->sh_size)
				continue;
			rc = st_add(bias + sym[i].st_value, sym[i].st_size,
				    (const char *)m + strs->sh_offset + sym[i].st_name);
		}
	}
out:
	munmap(m, (size_t)sb.st_size);
	return rc;
}

static int st_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *path = info->dlpi_name;

	(void)size;
	(void)arg;
	if (!path || !path[0])
		path = "/proc/self/exe";
	else if (path[0] != '/')
		return 0;	/* linux-vdso.so.1: no file */
	return st_read_elf(path, info->dlpi_addr);
}

static int st_cmp(const void *a, const void *b)
{
	const struct st_sym *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static void st_load_once(void)
{
	uintptr_t warm[2];

	mmb_stack_save(warm, 2, 0);	/* loads the unwinder now, not in a handler */
	st_load_rc = dl_iterate_phdr(st_phdr_cb, NULL);
	for (size_t i = 0; i < st_nsyms; i++)
		st_syms[i].name = st_pool + (uintptr_t)st_syms[i].name;
	if (st_nsyms)
		qsort(st_syms, st_nsyms, sizeof(*st_syms), st_cmp);
}

int mmb_stack_symbols_load(void)
{
	pthread_once(&st_once, st_load_once);
	return st_load_rc;
}

/* The function containing addr, or NULL. */
static const struct st_sym *st_find(uintptr_t addr)
{
	size_t lo = 0, hi = st_nsyms;

	while (lo < hi) {	/* the last symbol starting at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (st_syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < st_syms[lo - 1].start + (st_syms[lo - 1].size ? st_syms[lo - 1].size : 1))
		return &st_syms[lo - 1];
	return NULL;
}

const char *mmb_stack_name(uintptr_t addr)
{
	const struct st_sym *s = st_find(addr);

	return s ? s->name : NULL;
}

void mmb_stack_symbolize(uintptr_t addr, char *buf, size_t len)
{
	const struct st_sym *s = st_find(addr);
	Dl_info di;

	if (s) {
		snprintf(buf, len, "%s+0x%lx/0x%lx", s->name, (unsigned long)(addr - s->start),
			 (unsigned long)s->size);
		return;
	}
	if (dladdr((void *)addr, &di) && di.dli_fname) {
		const char *base = strrchr(di.dli_fname, '/');

		snprintf(buf, len, "%s+0x%lx", base ? base + 1 : di.dli_fname,
			 (unsigned long)(addr - (uintptr_t)di.dli_fbase));
		return;
	}
	snprintf(buf, len, "0x%lx", (unsigned long)addr);
}
