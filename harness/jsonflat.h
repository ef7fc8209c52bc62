/*
 * jsonflat.h — a JSON value's text as (path, text) pairs, for tables a
 * person reads: {"a": 1, "b": {"c": "x"}, "d": [1, 2]} gives "a" = "1",
 * "b.c" = "x", "d" = "1, 2"; an array holding objects gives "d[0].e" ...
 * Strings are unescaped (\uXXXX above 0x7f as '?'), null prints as "null".
 *
 * The report renders meta.json's nested objects (faults, topology, clock,
 * ...) with it instead of raw JSON. Input that is not JSON stops the walk:
 * what was read is kept and the rest is one pair with the remaining text.
 */
#ifndef MMB_JSONFLAT_H
#define MMB_JSONFLAT_H

typedef void (*mmb_jsonflat_fn)(void *arg, const char *path, const char *text);

/* Walk json (one value) and call fn for every scalar or scalar array under prefix. */
void mmb_jsonflat(const char *json, const char *prefix, mmb_jsonflat_fn fn, void *arg);

#endif /* MMB_JSONFLAT_H */
