/*
 * jsonflat.c — JSON to (path, text) pairs (jsonflat.h). Recursive descent,
 * depth-limited (JF_MAX_DEPTH) so that no input can exhaust the stack.
 */
#include "jsonflat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JF_MAX_DEPTH 16
#define JF_TEXT 4096

struct jf {
	const char *p;
	mmb_jsonflat_fn fn;
	void *arg;
	int bad;
};

static void jf_ws(struct jf *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

/* A string at j->p (at its quote) into buf. */
static void jf_string(struct jf *j, char *buf, size_t len)
{
	size_t o = 0;

	j->p++;
	while (*j->p && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\' && *j->p) {
			c = *j->p++;
			c = c == 'n' ? ' ' : c == 't' ? ' ' : c == 'r' ? ' ' : c == 'b' || c == 'f' ? ' ' : c;
			if (c == 'u') {
				unsigned v = 0;

				if (sscanf(j->p, "%4x", &v) == 1 && strlen(j->p) >= 4)
					j->p += 4;
				c = v && v < 0x80 ? (char)v : '?';
			}
		}
		if (o + 1 < len)
			buf[o++] = c;
	}
	buf[o] = 0;
	if (*j->p == '"')
		j->p++;
	else
		j->bad = 1;
}

/* A scalar (string, number, true, false, null) into buf. */
static void jf_scalar(struct jf *j, char *buf, size_t len)
{
	size_t n;

	if (*j->p == '"') {
		jf_string(j, buf, len);
		return;
	}
	n = strcspn(j->p, ",]} \n\t\r");
	if (!n) {
		j->bad = 1;
		buf[0] = 0;
		return;
	}
	snprintf(buf, len, "%.*s", (int)n, j->p);
	j->p += n;
}

static void jf_value(struct jf *j, const char *path, int depth);

static void jf_object(struct jf *j, const char *path, int depth)
{
	j->p++;
	for (jf_ws(j); !j->bad && *j->p && *j->p != '}';) {
		char key[256], sub[1024];

		if (*j->p != '"') {
			j->bad = 1;
			return;
		}
		jf_string(j, key, sizeof(key));
		jf_ws(j);
		if (*j->p != ':') {
			j->bad = 1;
			return;
		}
		j->p++;
		jf_ws(j);
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		jf_value(j, sub, depth + 1);
		jf_ws(j);
		if (*j->p == ',') {
			j->p++;
			jf_ws(j);
		}
	}
	if (*j->p == '}')
		j->p++;
	else
		j->bad = 1;
}

/* An array: scalars joined with ", " into one pair; containers as path[i]. */
static void jf_array(struct jf *j, const char *path, int depth)
{
	char *text = malloc(JF_TEXT), item[1024], sub[1100];
	size_t o = 0;
	int i = 0;

	if (!text) {
		j->bad = 1;
		return;
	}
	text[0] = 0;
	j->p++;
	for (jf_ws(j); !j->bad && *j->p && *j->p != ']'; i++) {
		if (*j->p == '{' || *j->p == '[') {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
			jf_value(j, sub, depth + 1);
		} else {
			jf_scalar(j, item, sizeof(item));
			if (o < JF_TEXT)
				o += (size_t)snprintf(text + o, JF_TEXT - o, "%s%s", o ? ", " : "", item);
		}
		jf_ws(j);
		if (*j->p == ',') {
			j->p++;
			jf_ws(j);
		}
	}
	if (*j->p == ']')
		j->p++;
	else
		j->bad = 1;
	if (o || !i)
		j->fn(j->arg, path, text);
	free(text);
}

static void jf_value(struct jf *j, const char *path, int depth)
{
	char buf[1024];

	jf_ws(j);
	if (depth > JF_MAX_DEPTH) {
		j->bad = 1;
	} else if (*j->p == '{') {
		jf_object(j, path, depth);
	} else if (*j->p == '[') {
		jf_array(j, path, depth);
	} else {
		jf_scalar(j, buf, sizeof(buf));
		if (!j->bad)
			j->fn(j->arg, path, buf);
	}
}

void mmb_jsonflat(const char *json, const char *prefix, mmb_jsonflat_fn fn, void *arg)
{
	struct jf j = { .p = json, .fn = fn, .arg = arg };

	jf_value(&j, prefix, 0);
	if (j.bad && *j.p)
		fn(arg, prefix, j.p);
}
