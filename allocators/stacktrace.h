/*
 * stacktrace.h — call stacks for the detectors (kmemleak.h, kfence.h): save
 * a stack as return addresses, and name an address as the kernel's %pS does
 * ("func+0x1a/0x40").
 *
 * Names come from the ELF symbol tables (.symtab, else .dynsym) of every
 * loaded object, read once by mmb_stack_symbols_load() into one sorted
 * array, so that static functions are named too and so that naming, after
 * the load, takes no lock and allocates nothing (a fault handler may call
 * it). Objects loaded later are named "object+0xoff" through dladdr.
 */
#ifndef MMB_STACKTRACE_H
#define MMB_STACKTRACE_H

#include <stddef.h>
#include <stdint.h>

#define MMB_STACK_DEPTH 16		/* MAX_TRACE */

/*
 * Up to max return addresses of the caller's stack, the innermost skip
 * frames (besides this function's) left out. Returns how many were saved.
 */
int mmb_stack_save(uintptr_t *trace, int max, int skip);

/* Read the symbol tables (idempotent, thread-safe). 0 or -errno. */
int mmb_stack_symbols_load(void);

/* The name of the function containing addr (from the tables), or NULL. */
const char *mmb_stack_name(uintptr_t addr);

/* "func+0xoff/0xsize", or "object+0xoff", or "0x<addr>" into buf. */
void mmb_stack_symbolize(uintptr_t addr, char *buf, size_t len);

#endif /* MMB_STACKTRACE_H */
