/*
 * units.h — numbers for people: a metric's value in the unit its column
 * name implies, as the summary, the report and compare print it.
 *
 * By column name (metrics.h names and the dynamic columns alike):
 *   *_bytes      binary units:  "812 B", "1.3 MiB", "2.00 GiB"
 *   ops_per_sec  SI:            "19.9 M ops/s";  other *_per_sec "1.2 k/s"
 *   *_ns         time:          "812 ns", "1.25 us", "3.10 ms", "2.00 s"
 *   anything else               SI prefixes past 10^4 ("13.5 k", "1.35 M"),
 *                               whole numbers as they are ("6816")
 * Decimals: two below 10 ("2.15", "0.12"), one below 100 ("19.9"), none
 * above ("217"): three significant digits from 1 on, enough to rank and
 * few enough to read.
 * NaN (not measured) prints as "-". ASCII only ("us", not the micro sign),
 * so printf field widths line columns up.
 */
#ifndef MMB_UNITS_H
#define MMB_UNITS_H

#include <stddef.h>

/* v of column metric in human units, into buf. Returns buf. */
char *mmb_fmt_metric(char *buf, size_t len, const char *metric, double v);

/*
 * A change in percent with its sign and 3 significant digits ("+3.10%",
 * "-20.0%", "+212%"); from +1000% on, the factor ("x12.3", "x328k");
 * "n/a" for NaN, "+inf%".
 */
char *mmb_fmt_pct(char *buf, size_t len, double pct);

#endif /* MMB_UNITS_H */
