/*
 * resume.c — the command line of a results folder (resume.h).
 *
 * meta.json is written by meta.c only, so this reads just the one array it
 * needs: "command_line": ["mmbench", "run", ...], JSON strings with the
 * escapes mmb_json_str writes.
 */
#include "resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESUME_MAX_ARGS 256

/* Parse the JSON string at *pp (at its opening quote) into a malloc'ed copy. */
static char *resume_string(const char **pp)
{
	const char *p = *pp + 1;
	size_t len = 0;
	char *out = malloc(strlen(p) + 1);

	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p != '\\') {
			out[len++] = *p;
			continue;
		}
		switch (*++p) {
		case '"': out[len++] = '"'; break;
		case '\\': out[len++] = '\\'; break;
		case '/': out[len++] = '/'; break;
		case 'n': out[len++] = '\n'; break;
		case 'r': out[len++] = '\r'; break;
		case 't': out[len++] = '\t'; break;
		case 'u': {
			unsigned v;

			if (sscanf(p + 1, "%4x", &v) != 1 || v >= 0x80)
				goto bad;
			out[len++] = (char)v;
			p += 4;
			break;
		}
		default:
			goto bad;
		}
	}
	if (*p != '"')
		goto bad;
	out[len] = 0;
	*pp = p + 1;
	return out;
bad:
	free(out);
	return NULL;
}

void mmb_resume_free(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int mmb_resume_argv(const char *dir, int *r_argc, char ***r_argv, char *err, size_t errlen)
{
	char path[4200], *text = NULL, **argv = NULL;
	const char *p;
	size_t cap = 0;
	int argc = 0, first = 1;
	FILE *f;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	f = fopen(path, "r");
	if (!f) {
		int e = errno;

		snprintf(err, errlen, "--resume %s: cannot read meta.json: %s (not a results folder?)",
			 dir, strerror(e));
		return -e;
	}
	n = getdelim(&text, &cap, 0, f);
	fclose(f);
	p = n > 0 ? strstr(text, "\"command_line\": [") : NULL;
	argv = calloc(RESUME_MAX_ARGS + 1, sizeof(*argv));
	if (!p || !argv)
		goto bad;
	p += strlen("\"command_line\": [");
	for (;;) {
		char *s;

		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == ']')
			break;
		if (*p != '"' || !(s = resume_string(&p)))
			goto bad;
		if (first) {		/* "mmbench" */
			free(s);
			first = 0;
		} else if (argc == RESUME_MAX_ARGS) {
			free(s);
			goto bad;
		} else {
			argv[argc++] = s;
		}
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p != ']')
			goto bad;
	}
	if (argc < 1 || strcmp(argv[0], "run"))
		goto bad;
	free(text);
	*r_argc = argc;
	*r_argv = argv;
	return 0;
bad:
	snprintf(err, errlen, "--resume %s: meta.json has no readable \"command_line\" of a run",
		 dir);
	free(text);
	if (argv)
		mmb_resume_free(argc, argv);
	return -EPROTO;
}
