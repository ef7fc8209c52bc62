/*
 * util.h — small helpers shared by the harness: messages, clocks, time
 * strings, JSON string escaping, sorting uint64_t; atomic file replacement (mmb_write_atomic)
 * comes from allocators/statefile.h.
 *
 * Error convention: functions return 0 or -errno. The CLI turns errors into
 * one-line messages through mmb_err() and exit status 2 for bad usage
 * (MMB_EXIT_USAGE).
 */
#ifndef MMB_UTIL_H
#define MMB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../allocators/statefile.h"	/* mmb_write_atomic: replace a file atomically */

#define MMB_EXIT_USAGE 2
#define MMB_VERSION "0.1.0"

/* "mmbench: <message>\n" on stderr. */
void mmb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in ns. */
uint64_t mmb_now_ns(void);

/* "2026-11-26T15:30:17Z" (buf >= 21 bytes) and "20261126T153017Z". */
void mmb_utc_iso(time_t t, char *buf, size_t len);
void mmb_utc_compact(time_t t, char *buf, size_t len);

/* Write s as a JSON string literal (with quotes). */
void mmb_json_str(FILE *f, const char *s);

/* mkdir -p. Returns 0 or -errno. */
int mmb_mkdir_p(const char *path, unsigned mode);

/* 1 if path is a directory with no entries, 0 if not empty, -errno if unreadable. */
int mmb_dir_is_empty(const char *path);

/* The contents of a small text file's first line (newline stripped), or "". */
void mmb_read_line(const char *path, char *buf, size_t len);

/* qsort comparison of two uint64_t, ascending. */
int mmb_cmp_u64(const void *a, const void *b);

#endif /* MMB_UTIL_H */
