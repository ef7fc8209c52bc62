/*
 * series.h — the run's long-format files beside cells.csv, one row per
 * (cell, something): latency.csv (histogram buckets) and timeline.csv.
 *
 *	latency.csv	cell,op,lo_ns,hi_ns,count
 *			one row per non-empty bucket per cell and operation kind;
 *			a bucket holds the timed calls with lo_ns <= latency <
 *			hi_ns (hist.h), so percentiles can be recomputed and
 *			histograms of several cells or runs added bucket by bucket
 *	timeline.csv	timeline.h
 *
 * Each is created with its header when the run starts; a finished cell's
 * rows are appended (flushed and fsync'ed) before cells.csv names the cell,
 * so a row whose cell is not in cells.csv belongs to an interrupted cell;
 * mmb_series_keep drops such rows when a run is resumed.
 */
#ifndef MMB_SERIES_H
#define MMB_SERIES_H

#include <stddef.h>

#define MMB_LATENCY_HEADER "cell,op,lo_ns,hi_ns,count"

/* Write dir/name holding only header (atomically). Returns 0 or -errno. */
int mmb_series_create(const char *dir, const char *name, const char *header);

/* Append len bytes of rows. Returns 0 or -errno. */
int mmb_series_append(const char *dir, const char *name, const char *rows, size_t len);

/*
 * Rewrite dir/name atomically with its header and the rows whose cell (the
 * first field) has keep[cell - 1] set, 1 <= cell <= ncells; a missing file
 * is created with the header. Returns 0 or -errno.
 */
int mmb_series_keep(const char *dir, const char *name, const char *header,
		    const unsigned char *keep, unsigned ncells);

#endif /* MMB_SERIES_H */
