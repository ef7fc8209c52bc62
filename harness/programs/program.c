/*
 * program.c — program definitions: parsing and checking (program.h).
 *
 * Everything a definition names is checked here, before any cell runs: the
 * command and driver exist and are executable, the stdin and expect files
 * are readable, cwd is a folder. Paths are resolved once, so a cell does
 * not depend on mmbench's working folder. Strings are copied into one
 * buffer per program (p->buf); argv[] and driver[] point into it.
 */
#include "program.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

int mmb_prog_which(const char *cmd, const char *here, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	int denied = 0;
	struct stat st;

	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/')) {
		if (cmd[0] == '/' || !here || !here[0])
			snprintf(buf, len, "%s", cmd);
		else
			snprintf(buf, len, "%s/%s", here, cmd);
		if (stat(buf, &st) || !S_ISREG(st.st_mode))
			return -ENOENT;
		return access(buf, X_OK) ? -EACCES : 0;
	}
	for (const char *d = path ? path : "/usr/local/bin:/usr/bin:/bin"; d;) {
		const char *end = strchr(d, ':');
		size_t n = end ? (size_t)(end - d) : strlen(d);

		snprintf(buf, len, "%.*s%s%s", (int)n, d, n ? "/" : "", cmd);
		if (!stat(buf, &st) && S_ISREG(st.st_mode)) {
			if (!access(buf, X_OK))
				return 0;
			denied = 1;
		}
		d = end ? end + 1 : NULL;
	}
	return denied ? -EACCES : -ENOENT;
}

/* A word for file names and CSV: [A-Za-z0-9_.+-], 1..63 characters. */
static int prog_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= 64 || s[0] == '-' || s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '.' || *s == '+' || *s == '-'))
			return 0;
	return 1;
}

/* A path relative to here, into out. */
static void prog_resolve(const char *here, const char *v, char *out, size_t len)
{
	if (v[0] == '/' || !here[0])
		snprintf(out, len, "%s", v);
	else
		snprintf(out, len, "%.2000s/%.2000s", here, v);
}

static int prog_u64(const char *s, uint64_t max, uint64_t *r)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		mul = 1000, end++;
	else if (*end == 'M')
		mul = 1000000, end++;
	if (errno || *end || end == s || v > max / mul)
		return -EINVAL;
	*r = v * mul;
	return 0;
}

/* Check a command ({here} replaced) and resolve it into path. */
static int prog_find(const struct mmb_prog *p, const char *cmd, char *path, size_t len, char *err,
		     size_t errlen)
{
	char c[MMB_PROG_PATH];
	int rc;

	if (mmb_prog_subst(p, cmd, 0, "", c, sizeof(c))) {
		snprintf(err, errlen, "program %s: command too long", p->name);
		return -EINVAL;
	}
	rc = mmb_prog_which(c, p->here, path, len);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "program %s: %s: command not found", p->name, c);
		return -ENOENT;
	}
	if (rc) {
		snprintf(err, errlen, "program %s: %s: not executable (Permission denied)", p->name, c);
		return -EINVAL;
	}
	return 0;
}

static int prog_key(struct mmb_prog *p, const char *tok, char *err, size_t errlen)
{
	const char *eq = strchr(tok, '=');
	const char *v = eq ? eq + 1 : "";
	size_t klen = eq ? (size_t)(eq - tok) : 0;
	uint64_t u;

#define KEY(k) (klen == sizeof(k) - 1 && !strncmp(tok, k, klen))
	if (!eq || !*v) {
		snprintf(err, errlen, "program %s: '%s': expected KEY=VALUE before -- (keys: stdin, "
			 "expect, exit, cwd, threads, info)", p->name, tok);
		return -EINVAL;
	}
	if (KEY("stdin")) {
		if (!strncmp(v, "gen:lines:", 10)) {
			if (prog_u64(v + 10, 100000000, &p->gen_lines) || !p->gen_lines) {
				snprintf(err, errlen, "program %s: stdin=%s: expected gen:lines:N "
					 "with N in 1..100M", p->name, v);
				return -EINVAL;
			}
			return 0;
		}
		prog_resolve(p->here, v, p->stdin_file, sizeof(p->stdin_file));
		if (access(p->stdin_file, R_OK)) {
			snprintf(err, errlen, "program %s: stdin file %s: %s", p->name, p->stdin_file,
				 strerror(errno));
			return -EINVAL;
		}
	} else if (KEY("expect")) {
		if (!strcmp(v, "first")) {
			p->expect = MMB_EXPECT_FIRST;
		} else if (!strcmp(v, "none")) {
			p->expect = MMB_EXPECT_NONE;
		} else {
			p->expect = MMB_EXPECT_FILE;
			prog_resolve(p->here, v, p->expect_file, sizeof(p->expect_file));
			if (access(p->expect_file, R_OK)) {
				snprintf(err, errlen, "program %s: expected-output file %s: %s", p->name,
					 p->expect_file, strerror(errno));
				return -EINVAL;
			}
		}
	} else if (KEY("exit")) {
		if (prog_u64(v, 255, &u)) {
			snprintf(err, errlen, "program %s: exit=%s: expected an exit status 0..255",
				 p->name, v);
			return -EINVAL;
		}
		p->exit_status = (int)u;
	} else if (KEY("cwd")) {
		struct stat st;

		prog_resolve(p->here, v, p->cwd, sizeof(p->cwd));
		if (stat(p->cwd, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "program %s: cwd=%s: not a folder", p->name, p->cwd);
			return -EINVAL;
		}
	} else if (KEY("threads")) {
		if (prog_u64(v, 1024, &u) || !u) {
			snprintf(err, errlen, "program %s: threads=%s: expected 1..1024", p->name, v);
			return -EINVAL;
		}
		p->threads = (unsigned)u;
	} else if (KEY("info")) {
		if (strcmp(v, "redis")) {
			snprintf(err, errlen, "program %s: info=%s: expected redis", p->name, v);
			return -EINVAL;
		}
		p->info = MMB_INFO_REDIS;
	} else {
		snprintf(err, errlen, "program %s: unknown key '%.*s' (keys: stdin, expect, exit, cwd, "
			 "threads, info)", p->name, (int)klen, tok);
		return -EINVAL;
	}
#undef KEY
	return 0;
}

/* Copy tokens [from, to) into p->buf, pointing out[] at them. */
static void prog_copy(char **out, char **tok, int from, int to, char **pos)
{
	int n = 0;

	for (int i = from; i < to; i++) {
		size_t l = strlen(tok[i]) + 1;

		memcpy(*pos, tok[i], l);
		out[n++] = *pos;
		*pos += l;
	}
	out[n] = NULL;
}

static void prog_init(struct mmb_prog *p, const char *here)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->here, sizeof(p->here), "%s", here);
	p->threads = 1;
	p->wl.name = p->name;
	p->wl.desc = "a real program (README.md, Programs as cells)";
}

int mmb_prog_parse(struct mmb_prog *p, int ntok, char **tok, const char *here, char *err,
		   size_t errlen)
{
	int dash = -1, drv = -1, rc;
	size_t bytes = 0, off = 0;
	char *pos;

	prog_init(p, here);
	if (ntok < 1 || !prog_name_ok(tok[0])) {
		snprintf(err, errlen, "program '%s': a name is a word of letters, digits and _ . + - "
			 "(prog NAME [KEY=VALUE...] -- COMMAND [ARG...])", ntok ? tok[0] : "");
		return -EINVAL;
	}
	snprintf(p->name, sizeof(p->name), "%s", tok[0]);
	if (mmb_wl_find(p->name)) {
		snprintf(err, errlen, "program %s: the name of a workload; name it otherwise", p->name);
		return -EINVAL;
	}
	for (int i = 1; i < ntok; i++) {
		if (dash < 0 && !strcmp(tok[i], "--"))
			dash = i;
		else if (dash >= 0 && drv < 0 && !strcmp(tok[i], "--driver"))
			drv = i;
	}
	if (dash < 0 || dash + 1 >= ntok || dash + 1 == drv) {
		snprintf(err, errlen, "program %s: no command (prog NAME [KEY=VALUE...] -- COMMAND "
			 "[ARG...])", p->name);
		return -EINVAL;
	}
	if (drv >= 0 && drv + 1 >= ntok) {
		snprintf(err, errlen, "program %s: --driver without a command", p->name);
		return -EINVAL;
	}
	if ((drv >= 0 ? drv : ntok) - dash - 1 > MMB_PROG_MAX_ARGS ||
	    (drv >= 0 && ntok - drv - 1 > MMB_PROG_MAX_ARGS)) {
		snprintf(err, errlen, "program %s: more than %d arguments", p->name, MMB_PROG_MAX_ARGS);
		return -EINVAL;
	}
	for (int i = 1; i < dash; i++) {
		rc = prog_key(p, tok[i], err, errlen);
		if (rc)
			return rc;
	}
	if (p->gen_lines && p->stdin_file[0]) {
		snprintf(err, errlen, "program %s: two stdin= keys", p->name);
		return -EINVAL;
	}
	if (p->info == MMB_INFO_REDIS && drv < 0) {
		snprintf(err, errlen, "program %s: info=redis reads the server after its --driver "
			 "ends: give one", p->name);
		return -EINVAL;
	}
	for (int i = dash + 1; i < ntok; i++)
		bytes += strlen(tok[i]) + 1;
	p->buf = malloc(bytes ? bytes : 1);
	if (!p->buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pos = p->buf;
	prog_copy(p->argv, tok, dash + 1, drv >= 0 ? drv : ntok, &pos);
	if (drv >= 0)
		prog_copy(p->driver, tok, drv + 1, ntok, &pos);
	for (int i = 1; i < ntok && off < sizeof(p->text); i++)
		off += (size_t)snprintf(p->text + off, sizeof(p->text) - off, "%s%s", i > 1 ? " " : "",
					tok[i]);
	rc = prog_find(p, p->argv[0], p->path, sizeof(p->path), err, errlen);
	if (!rc && p->driver[0])
		rc = prog_find(p, p->driver[0], p->driver_path, sizeof(p->driver_path), err, errlen);
	if (rc) {
		mmb_prog_free(p);
		return rc;
	}
	return 0;
}

int mmb_prog_parse_inline(struct mmb_prog *p, const char *cmdline, char *err, size_t errlen)
{
	char buf[4096], *tok[MMB_PROG_MAX_ARGS + 3], *save = NULL, here[PATH_MAX], name[64];
	const char *base;
	int n = 2;

	if (strlen(cmdline) >= sizeof(buf)) {
		snprintf(err, errlen, "-w prog:...: command line too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == MMB_PROG_MAX_ARGS + 2) {
			snprintf(err, errlen, "-w prog:...: more than %d arguments", MMB_PROG_MAX_ARGS);
			return -EINVAL;
		}
		tok[n++] = t;
	}
	if (n == 2) {
		snprintf(err, errlen, "-w prog: needs a program name or a command");
		return -EINVAL;
	}
	base = strrchr(tok[2], '/') ? strrchr(tok[2], '/') + 1 : tok[2];
	snprintf(name, sizeof(name), "%s", base);
	tok[0] = name;
	tok[1] = "--";
	if (!getcwd(here, sizeof(here)))
		snprintf(here, sizeof(here), ".");
	return mmb_prog_parse(p, n, tok, here, err, errlen);
}

int mmb_prog_load_file(const char *file, struct mmb_prog *progs, unsigned max, char *err,
		       size_t errlen)
{
	char here[PATH_MAX], *line = NULL, *slash, msg[MMB_ERR_MAX + 64];
	size_t cap = 0;
	unsigned lineno = 0, n = 0;
	FILE *f = fopen(file, "r");
	int rc = 0;

	if (!f) {
		snprintf(err, errlen, "--programs-from %s: %s", file, strerror(errno));
		return -errno;
	}
	if (!realpath(file, here))
		snprintf(here, sizeof(here), "%s", file);
	slash = strrchr(here, '/');
	if (slash)
		*slash = 0;
	while (getline(&line, &cap, f) >= 0) {
		char *tok[MMB_PROG_MAX_ARGS * 2 + 16], *save = NULL, *hash = strchr(line, '#');
		int ntok = 0;

		lineno++;
		if (hash)
			*hash = 0;
		for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
			if (ntok == (int)(sizeof(tok) / sizeof(tok[0]))) {
				snprintf(err, errlen, "%s:%u: too many words", file, lineno);
				rc = -EINVAL;
				goto out;
			}
			tok[ntok++] = t;
		}
		if (!ntok)
			continue;
		if (n == max) {
			snprintf(err, errlen, "%s:%u: more than %u programs", file, lineno, max);
			rc = -EINVAL;
			goto out;
		}
		int skip = !strcmp(tok[0], "prog");

		rc = mmb_prog_parse(&progs[n], ntok - skip, tok + skip, here, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", file, lineno, msg);
			rc = rc == -ENOENT ? -ENOENT : -EINVAL;
			goto out;
		}
		for (unsigned i = 0; i < n; i++)
			if (!strcmp(progs[i].name, progs[n].name)) {
				snprintf(err, errlen, "%s:%u: program %s defined twice", file, lineno,
					 progs[n].name);
				mmb_prog_free(&progs[n]);
				rc = -EINVAL;
				goto out;
			}
		n++;
	}
	if (!n) {
		snprintf(err, errlen, "--programs-from %s: no program line (NAME [KEY=VALUE...] -- "
			 "COMMAND [ARG...])", file);
		rc = -EINVAL;
	}
out:
	free(line);
	fclose(f);
	if (rc) {
		for (unsigned i = 0; i < n; i++)
			mmb_prog_free(&progs[i]);
		return rc;
	}
	return (int)n;
}

void mmb_prog_free(struct mmb_prog *p)
{
	free(p->buf);
	p->buf = NULL;
	p->argv[0] = NULL;
	p->driver[0] = NULL;
}

int mmb_prog_subst(const struct mmb_prog *p, const char *s, unsigned port, const char *stdin_path,
		   char *out, size_t len)
{
	size_t o = 0;

	while (*s) {
		char val[MMB_PROG_PATH];
		size_t vl;
		const char *v = NULL;

		if (!strncmp(s, "{here}", 6))
			v = p->here, s += 6;
		else if (!strncmp(s, "{threads}", 9))
			snprintf(val, sizeof(val), "%u", p->threads), v = val, s += 9;
		else if (!strncmp(s, "{port}", 6))
			snprintf(val, sizeof(val), "%u", port), v = val, s += 6;
		else if (!strncmp(s, "{stdin}", 7))
			v = stdin_path, s += 7;
		if (!v) {
			if (o + 1 >= len)
				return -ENAMETOOLONG;
			out[o++] = *s++;
			continue;
		}
		vl = strlen(v);
		if (o + vl >= len)
			return -ENAMETOOLONG;
		memcpy(out + o, v, vl);
		o += vl;
	}
	out[o] = 0;
	return 0;
}
