/*
 * param.c — parsing and validation of key=value option tables (see param.h).
 */
#include "param.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int mmb_params_count(const struct mmb_param *tab)
{
	int n = 0;

	while (tab && tab[n].name)
		n++;
	return n;
}

static int param_index(const struct mmb_param *tab, const char *name)
{
	for (int i = 0; tab && tab[i].name; i++)
		if (strcmp(tab[i].name, name) == 0)
			return i;
	return -1;
}

int mmb_parse_size(const char *s, uint64_t *r_val)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*r_val = (uint64_t)v << shift;
	return 0;
}

static int parse_bool(const char *s, uint64_t *r)
{
	static const char *const yes[] = { "on", "1", "yes", "true" };
	static const char *const no[] = { "off", "0", "no", "false" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*r = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*r = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_enum(const char *choices, const char *s, uint64_t *r)
{
	const char *c = choices;
	size_t len = strlen(s);
	uint64_t idx = 0;

	while (c && *c) {
		const char *bar = strchr(c, '|');
		size_t clen = bar ? (size_t)(bar - c) : strlen(c);

		if (clen == len && strncmp(c, s, len) == 0) {
			*r = idx;
			return 0;
		}
		idx++;
		c = bar ? bar + 1 : NULL;
	}
	return -EINVAL;
}

/* Parse value text into v for row p; on error write the message. */
static int param_parse_value(const struct mmb_param *p, const char *value, const char *what,
			     struct mmb_pval *v, char *err, size_t errlen)
{
	char *end;

	if (strlen(value) >= sizeof(v->s)) {
		snprintf(err, errlen, "%s: value of '%s' is too long (at most %zu characters)",
			 what, p->name, sizeof(v->s) - 1);
		return -EINVAL;
	}
	switch (p->type) {
	case MMB_P_U64:
	case MMB_P_SIZE: {
		uint64_t u;
		int rc;

		if (p->type == MMB_P_SIZE) {
			rc = mmb_parse_size(value, &u);
		} else {
			errno = 0;
			rc = (*value && *value != '-' && *value != '+') ? 0 : -EINVAL;
			u = rc ? 0 : strtoull(value, &end, 0);
			if (!rc && (errno || *end))
				rc = -EINVAL;
		}
		if (rc) {
			snprintf(err, errlen, "%s: '%s=%s' is not %s", what, p->name, value,
				 p->type == MMB_P_SIZE ? "a size (e.g. 4096, 64K, 1G)"
						       : "a non-negative integer");
			return -EINVAL;
		}
		if ((double)u < p->min || (double)u > p->max) {
			snprintf(err, errlen, "%s: '%s=%s' is out of range [%.0f, %.0f]", what,
				 p->name, value, p->min, p->max);
			return -EINVAL;
		}
		v->u = u;
		v->f = (double)u;
		break;
	}
	case MMB_P_F64: {
		double f;

		errno = 0;
		f = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(f)) {
			snprintf(err, errlen, "%s: '%s=%s' is not a number", what, p->name, value);
			return -EINVAL;
		}
		if (f < p->min || f > p->max) {
			snprintf(err, errlen, "%s: '%s=%s' is out of range [%g, %g]", what, p->name,
				 value, p->min, p->max);
			return -EINVAL;
		}
		v->f = f;
		v->u = (uint64_t)(f < 0 ? 0 : f);
		break;
	}
	case MMB_P_BOOL:
		if (parse_bool(value, &v->u)) {
			snprintf(err, errlen, "%s: '%s=%s' must be on or off", what, p->name, value);
			return -EINVAL;
		}
		v->f = (double)v->u;
		break;
	case MMB_P_ENUM:
		if (parse_enum(p->choices, value, &v->u)) {
			snprintf(err, errlen, "%s: '%s=%s' must be one of %s", what, p->name, value,
				 p->choices);
			return -EINVAL;
		}
		v->f = (double)v->u;
		break;
	case MMB_P_STR:
		break;
	}
	snprintf(v->s, sizeof(v->s), "%s", value);
	return 0;
}

static void names_list(const struct mmb_param *tab, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; tab && tab[i].name && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", tab[i].name);
	if (!tab || !tab[0].name)
		snprintf(buf, len, "none");
}

int mmb_params_set(struct mmb_pvals *vals, const char *key, const char *value, const char *what,
		   char *err, size_t errlen)
{
	int i = param_index(vals->tab, key);

	if (i < 0) {
		char names[512];

		names_list(vals->tab, names, sizeof(names));
		snprintf(err, errlen, "%s: unknown option '%s' (valid: %s)", what, key, names);
		return -ENOENT;
	}
	if (param_parse_value(&vals->tab[i], value, what, &vals->v[i], err, errlen))
		return -EINVAL;
	vals->v[i].given = 1;
	return 0;
}

int mmb_params_parse(const struct mmb_param *tab, const char *kvs, const char *what,
		     struct mmb_pvals *r_vals, char *err, size_t errlen)
{
	char buf[1024];
	char *save = NULL;
	int n = mmb_params_count(tab);

	if (n > MMB_PARAMS_MAX) {
		snprintf(err, errlen, "%s: too many options in table", what);
		return -EINVAL;
	}
	memset(r_vals, 0, sizeof(*r_vals));
	r_vals->tab = tab;
	for (int i = 0; i < n; i++) {
		/* Defaults are parsed like input so a bad default is caught in tests. */
		if (param_parse_value(&tab[i], tab[i].def, what, &r_vals->v[i], err, errlen))
			return -EINVAL;
	}
	if (!kvs || !*kvs)
		return 0;
	if (strlen(kvs) >= sizeof(buf)) {
		snprintf(err, errlen, "%s: option list too long", what);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", kvs);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int rc;

		if (!eq || eq == tok) {
			snprintf(err, errlen, "%s: '%s' is not key=value", what, tok);
			return -EINVAL;
		}
		*eq = 0;
		rc = mmb_params_set(r_vals, tok, eq + 1, what, err, errlen);
		if (rc)
			return -EINVAL;
	}
	return 0;
}

static const struct mmb_pval *pval_find(const struct mmb_pvals *vals, const char *name)
{
	int i = param_index(vals->tab, name);

	if (i < 0) {
		fprintf(stderr, "mmbench: internal error: no parameter '%s'\n", name);
		abort();
	}
	return &vals->v[i];
}

uint64_t mmb_pval_u64(const struct mmb_pvals *vals, const char *name)
{
	return pval_find(vals, name)->u;
}

double mmb_pval_f64(const struct mmb_pvals *vals, const char *name)
{
	return pval_find(vals, name)->f;
}

const char *mmb_pval_str(const struct mmb_pvals *vals, const char *name)
{
	return pval_find(vals, name)->s;
}

int mmb_pval_given(const struct mmb_pvals *vals, const char *name)
{
	return pval_find(vals, name)->given;
}

size_t mmb_params_format(const struct mmb_pvals *vals, int only_given, char *buf, size_t buflen)
{
	size_t off = 0;

	if (buflen)
		buf[0] = 0;
	for (int i = 0; vals->tab && vals->tab[i].name; i++) {
		if (only_given && !vals->v[i].given)
			continue;
		if (off < buflen)
			off += (size_t)snprintf(buf + off, buflen - off, "%s%s=%s", off ? "," : "",
						vals->tab[i].name, vals->v[i].s);
	}
	return off < buflen ? off : buflen;
}
