/*
 * pagelist.h — a list of page descriptors linked through their priv[1]
 * (next) and priv[2] (prev) fields: the kernel's slab_list for the
 * allocators that keep slabs or pages on lists (slab_classic.c, slob.c).
 *
 * The list is a ring with no sentinel (a page descriptor is the only node
 * there is); the list is the pointer to its first page, NULL when empty.
 * So list_add (front) and list_add_tail both insert before the first page,
 * the former then making the new page the first, and the kernel's
 * list_rotate_to_front(page) is just "first = page": the ring's order is
 * kept, only its start moves.
 *
 * Invariant: a page is on at most one list at a time; the caller knows
 * which (the priv fields do not say), and holds that list's lock.
 */
#ifndef MMB_PAGELIST_H
#define MMB_PAGELIST_H

#include <stdint.h>

#include "pmem.h"

struct mmb_pagelist {
	struct mmb_page *first;
	unsigned long nr;		/* pages on the list */
};

static inline struct mmb_page *mmb_pl_next(const struct mmb_page *p)
{
	return (struct mmb_page *)(uintptr_t)p->priv[1];
}

static inline struct mmb_page *mmb_pl_prev(const struct mmb_page *p)
{
	return (struct mmb_page *)(uintptr_t)p->priv[2];
}

/* The last page (list_last_entry), or NULL. */
static inline struct mmb_page *mmb_pl_last(const struct mmb_pagelist *l)
{
	return l->first ? mmb_pl_prev(l->first) : NULL;
}

static inline void mmb_pl_add_tail(struct mmb_pagelist *l, struct mmb_page *p)
{
	struct mmb_page *f = l->first;

	l->nr++;
	if (!f) {
		p->priv[1] = p->priv[2] = (uintptr_t)p;
		l->first = p;
		return;
	}
	p->priv[1] = (uintptr_t)f;
	p->priv[2] = f->priv[2];
	mmb_pl_prev(f)->priv[1] = (uintptr_t)p;
	f->priv[2] = (uintptr_t)p;
}

static inline void mmb_pl_add(struct mmb_pagelist *l, struct mmb_page *p)
{
	mmb_pl_add_tail(l, p);
	l->first = p;
}

static inline void mmb_pl_del(struct mmb_pagelist *l, struct mmb_page *p)
{
	struct mmb_page *n = mmb_pl_next(p), *pr = mmb_pl_prev(p);

	l->nr--;
	if (n == p) {
		l->first = NULL;
	} else {
		pr->priv[1] = (uintptr_t)n;
		n->priv[2] = (uintptr_t)pr;
		if (l->first == p)
			l->first = n;
	}
	p->priv[1] = p->priv[2] = 0;
}

/* Iterate: for (p = l->first; p; p = mmb_pl_iter_next(l, p)). */
static inline struct mmb_page *mmb_pl_iter_next(const struct mmb_pagelist *l,
						const struct mmb_page *p)
{
	struct mmb_page *n = mmb_pl_next(p);

	return n == l->first ? NULL : n;
}

#endif /* MMB_PAGELIST_H */
