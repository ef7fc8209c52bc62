/*
 * exec.h — real programs: `mmbench exec` (a command on the malloc shim),
 * `mmbench record` (a command under the trace recorder) and
 * `mmbench trace-info` (a binary trace's summary).
 */
#ifndef MMB_EXEC_H
#define MMB_EXEC_H

int mmb_exec_main(int argc, char **argv);
int mmb_record_main(int argc, char **argv);
int mmb_trace_info_main(int argc, char **argv);

#endif /* MMB_EXEC_H */
