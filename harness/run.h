/*
 * run.h — `mmbench run`: the parent side. Plans the cells, creates the
 * results folder, runs every cell in its own process (fork + exec of
 * `mmbench cell`), records each as it finishes and prints a summary.
 *
 * Exit status: 0 when every cell ran (whatever its status), 2 for bad usage
 * (nothing written), 1 when results could not be written, 130 when
 * interrupted (finished cells are kept).
 */
#ifndef MMB_RUN_H
#define MMB_RUN_H

int mmb_run_main(int argc, char **argv);

#endif /* MMB_RUN_H */
