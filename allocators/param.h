/*
 * param.h — typed key=value option tables, shared by allocators and workloads.
 *
 * An allocator configuration ("buddy:mem=1G,pcp=off") and a workload's
 * parameters ("churn:size=64", or -p size=64) are both lists of key=value
 * pairs checked against a table that the allocator or workload declares:
 *
 *	static const struct mmb_param churn_params[] = {
 *		{ "size", MMB_P_SIZE, "64", 1, 1 << 20, NULL, "bytes per block" },
 *		{ 0 }
 *	};
 *
 * Parsing fills a struct mmb_pvals: one value per table row, the default where
 * the pair was not given. Every value is validated against the row's bounds or
 * choices at parse time, so code that reads values never sees a bad one.
 *
 * Types and their text forms:
 *	MMB_P_U64	decimal or 0x hex integer, min <= v <= max
 *	MMB_P_SIZE	integer with optional K/M/G/T suffix (powers of 1024)
 *	MMB_P_F64	floating point, min <= v <= max
 *	MMB_P_BOOL	on|off (also 1|0, yes|no, true|false)
 *	MMB_P_ENUM	one of choices ("a|b|c"); the value is the index
 *	MMB_P_STR	any text (up to MMB_PVAL_STR_MAX - 1 bytes), no commas
 *
 * Errors are returned as -EINVAL with a one-line message in the caller's
 * buffer that names the key and says what was expected.
 */
#ifndef MMB_PARAM_H
#define MMB_PARAM_H

#include <stddef.h>
#include <stdint.h>

enum mmb_ptype { MMB_P_U64, MMB_P_SIZE, MMB_P_F64, MMB_P_BOOL, MMB_P_ENUM, MMB_P_STR };

struct mmb_param {
	const char *name;	/* NULL ends a table */
	enum mmb_ptype type;
	const char *def;	/* default, in text form, parsed like user input */
	double min, max;	/* bounds for U64, SIZE, F64 */
	const char *choices;	/* ENUM: "a|b|c" */
	const char *help;	/* one line, units included */
};

#define MMB_PARAMS_MAX 24
#define MMB_PVAL_STR_MAX 256

struct mmb_pval {
	uint64_t u;		/* U64, SIZE, BOOL (0/1), ENUM (index) */
	double f;		/* F64 */
	char s[MMB_PVAL_STR_MAX]; /* STR, and the text form of every value */
	int given;		/* 1 when set by the user, 0 for the default */
};

struct mmb_pvals {
	const struct mmb_param *tab;
	struct mmb_pval v[MMB_PARAMS_MAX];
};

/* Number of rows in a table (0 for a NULL table). */
int mmb_params_count(const struct mmb_param *tab);

/*
 * Fill r_vals with the defaults of tab, then apply "k=v,k=v" (NULL or "" for
 * none). Returns 0, or -EINVAL with a message in err (what = "allocator
 * buddy" etc., used as the message's subject).
 */
int mmb_params_parse(const struct mmb_param *tab, const char *kvs, const char *what,
		     struct mmb_pvals *r_vals, char *err, size_t errlen);

/* Apply one "key=value". Returns 0, -ENOENT when the key is not in the table
 * (err names it), or -EINVAL for a bad value. */
int mmb_params_set(struct mmb_pvals *vals, const char *key, const char *value,
		   const char *what, char *err, size_t errlen);

/* Values by name; the name must be in the table (a programming error aborts). */
uint64_t mmb_pval_u64(const struct mmb_pvals *vals, const char *name);
double mmb_pval_f64(const struct mmb_pvals *vals, const char *name);
const char *mmb_pval_str(const struct mmb_pvals *vals, const char *name);
int mmb_pval_given(const struct mmb_pvals *vals, const char *name);

/* "k=v,k=v" of every value, in table order (only the given ones when
 * only_given). Returns the length written (truncated to buflen). */
size_t mmb_params_format(const struct mmb_pvals *vals, int only_given, char *buf, size_t buflen);

/* Parse a size with optional K/M/G/T suffix. Returns 0 or -EINVAL. */
int mmb_parse_size(const char *s, uint64_t *r_val);

#endif /* MMB_PARAM_H */
