/*
 * memstate.h — a cell's memory-state files beside cells.csv, long format,
 * one row per (cell, moment, order or size class):
 *
 *	frag_orders.csv	  cell,point,order,unusable_index,extfrag_index
 *		The kernel's unusable free space index and fragmentation index
 *		(mm/vmstat.c, /1000) at orders 0..10 of the buddy zone an
 *		allocator stands on (buddy, slab, vmalloc), at three moments:
 *		  live_peak		the timeline sample with the most live bytes
 *					(sampled: it may fall just before the peak)
 *		  zone_peak		the zone at its fewest free frames since
 *					boot (exact, kept by the zone)
 *		  first_frag_failure	the zone when the first page allocation
 *					failed although it had the free frames
 *					(exact; no rows when none failed so)
 *		Other allocators write no rows.
 *
 *	size_classes.csv  cell,point,allocator,class_bytes,live_objects,
 *			  capacity_objects,pages,utilization
 *		Per size class (allocator.h: size_classes), with
 *		--size-classes: at the live peak (the timeline sample with the
 *		most live bytes; point live_peak) and after the timed region,
 *		every block freed (point end). utilization = live_objects /
 *		capacity_objects, empty when the class holds no capacity.
 *
 * Child -> parent, record lines:
 *	o <point> <order> <unusable> <extfrag>
 *	z <point> <allocator> <class_bytes> <live> <capacity> <pages>
 * ("na" for a value not measured). The parent appends the rows like
 * latency.csv's (series.h): before cells.csv names the cell, kept on resume.
 */
#ifndef MMB_MEMSTATE_H
#define MMB_MEMSTATE_H

#include <stddef.h>
#include <stdio.h>

#include "../allocators/allocator.h"

#define MMB_FRAG_ORDERS_CSV "frag_orders.csv"
#define MMB_FRAG_ORDERS_HEADER "cell,point,order,unusable_index,extfrag_index"
#define MMB_SIZE_CLASSES_CSV "size_classes.csv"
#define MMB_SIZE_CLASSES_HEADER \
	"cell,point,allocator,class_bytes,live_objects,capacity_objects,pages,utilization"
#define MMB_SIZE_CLASSES_MAX 256	/* classes kept per moment */

/* Child: one moment's indices at orders 0..10; nothing when all are NaN. */
void mmb_memstate_emit_orders(FILE *rec, const char *point, const double unusable[MMB_NR_ORDERS],
			      const double extfrag[MMB_NR_ORDERS]);

/* Child: one moment's size classes of allocator name. */
void mmb_memstate_emit_classes(FILE *rec, const char *point, const char *name,
			       const struct mmb_size_class *c, int n);

/* Parent: a cell's rows, collected while its record is read. */
struct mmb_memstate_rows {
	FILE *orders, *classes;
	char *orders_buf, *classes_buf;
	size_t orders_len, classes_len;
};

/* Open the row buffers. Returns 0 or -ENOMEM. */
int mmb_memstate_open(struct mmb_memstate_rows *r);

/* One record line: 1 if it was an "o" or "z" line (turned into a row of
 * cell, malformed ones dropped), else 0. */
int mmb_memstate_line(struct mmb_memstate_rows *r, const char *line, unsigned cell);

/* Append the rows to dir's files (append = 1) or drop them (0), and close
 * the buffers. Returns 0 or -errno. */
int mmb_memstate_close(struct mmb_memstate_rows *r, const char *dir, int append);

/* Create the files with their headers (run start), or keep the rows of the
 * finished cells (--resume; series.h's mmb_series_keep). 0 or -errno. */
int mmb_memstate_create(const char *dir);
int mmb_memstate_keep(const char *dir, const unsigned char *keep, unsigned ncells);

#endif /* MMB_MEMSTATE_H */
