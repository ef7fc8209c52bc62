/*
 * program.h — a real program as a workload: its definition and parsing.
 *
 * A program cell runs a command as its own process under one allocator
 * (launch.h) and measures it from outside (runner.h). Definitions come from
 * three places, all in one syntax (README.md, Programs as cells):
 *
 *   suite line          prog NAME [KEY=VALUE...] -- COMMAND [ARG...] [--driver DRIVER [ARG...]]
 *   --programs-from F   the same lines, with or without the leading "prog"
 *   -w 'prog:NAME'      a program defined in F or the suite; otherwise
 *   -w 'prog:COMMAND ARG...'   an inline program named after COMMAND's basename
 *
 * Keys: stdin=FILE|gen:lines:N, expect=first|none|FILE, exit=N (expected exit
 * status, default 0), cwd=DIR, threads=N (the program's own threads: the
 * threads column and {threads}), info=redis. Relative paths (stdin, expect,
 * cwd, a COMMAND with a '/') are relative to the defining file's folder
 * ({here}). In COMMAND, ARG, DRIVER and cwd: {here}, {threads}, {port} (a
 * loopback port free when the cell starts), {stdin} (the stdin file).
 *
 * Invariants: a parsed program has a command that was found and is
 * executable (path is absolute), and every file it names exists, checked
 * before any cell runs; argv and driver are NULL-terminated; name is a word
 * ([A-Za-z0-9_.+-]) that is no registered workload's name.
 */
#ifndef MMB_PROGRAM_H
#define MMB_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "../../workloads/workload.h"

#define MMB_PROG_MAX_ARGS 64
#define MMB_PROG_PATH 4096

enum mmb_prog_expect { MMB_EXPECT_FIRST, MMB_EXPECT_NONE, MMB_EXPECT_FILE };
enum mmb_prog_info { MMB_INFO_NONE, MMB_INFO_REDIS };

struct mmb_prog {
	char name[64];
	struct mmb_wl_ops wl;		/* name only: the plan's workload slot (wl.name == name) */
	char here[MMB_PROG_PATH];	/* folder of the defining file ({here}) */
	char path[MMB_PROG_PATH];	/* the command, resolved (PATH lookup), absolute */
	char *argv[MMB_PROG_MAX_ARGS + 1];	/* as written, {..} not yet replaced */
	char *driver[MMB_PROG_MAX_ARGS + 1];	/* NULL-terminated; driver[0] NULL = none */
	char driver_path[MMB_PROG_PATH];
	char stdin_file[MMB_PROG_PATH];	/* "" = /dev/null */
	uint64_t gen_lines;		/* stdin=gen:lines:N (stdin_file is then made per run) */
	enum mmb_prog_expect expect;
	char expect_file[MMB_PROG_PATH];
	int exit_status;		/* expected */
	char cwd[MMB_PROG_PATH];	/* "" = mmbench's own */
	unsigned threads;
	enum mmb_prog_info info;
	char text[1024];		/* the definition after the name, for params and meta */
	char *buf;			/* storage of argv / driver strings (malloc'ed) */
};

/*
 * Parse one definition from tokens (tok[0] = NAME, no leading "prog").
 * here = folder of the defining file. Returns 0; -ENOENT when the command
 * (or the driver) is not installed (err: "NAME: COMMAND: command not
 * found"), so a suite may skip it; -EINVAL for anything else (err says
 * what: a bad key, a missing stdin or expect file, ...).
 */
int mmb_prog_parse(struct mmb_prog *p, int ntok, char **tok, const char *here, char *err,
		   size_t errlen);

/*
 * An inline program: "COMMAND ARG..." (split on spaces), named after
 * COMMAND's basename, expect=first, relative to the current folder.
 */
int mmb_prog_parse_inline(struct mmb_prog *p, const char *cmdline, char *err, size_t errlen);

/*
 * Read FILE's program lines into progs[] (at most max). Blank lines and '#'
 * comments are skipped; "prog" in front of a line is optional. Returns the
 * count, or -errno with "FILE:LINE: message" in err.
 */
int mmb_prog_load_file(const char *file, struct mmb_prog *progs, unsigned max, char *err,
		       size_t errlen);

void mmb_prog_free(struct mmb_prog *p);

/* Replace {here} {threads} {port} {stdin} in s into out. 0, or -ENAMETOOLONG. */
int mmb_prog_subst(const struct mmb_prog *p, const char *s, unsigned port, const char *stdin_path,
		   char *out, size_t len);

/* PATH lookup as the shell does, relative names with '/' against here.
 * 0, -ENOENT (not found) or -EACCES (not executable). */
int mmb_prog_which(const char *cmd, const char *here, char *buf, size_t len);

#endif /* MMB_PROGRAM_H */
