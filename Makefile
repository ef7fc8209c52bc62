# mmbench — build, test and run.
#
#   make            build/mmbench and build/libmmb.a (+ headers in allocators/)
#   make check      install missing packages, build, run the test suite
#   make run        install missing packages, build, run the default suite
#                   (workloads/suites/default.suite), write its report.html
#   make bench      micro-benchmarks with ratios against the issues' targets
#   make SANITIZE=address,undefined check   the same tests under sanitizers
#   make fuzz       build the libFuzzer targets (tests/fuzz/, clang) and run
#                   each for FUZZ_TIME seconds (default 60); fails on a crash
#   make tsan-check the multi-threaded workloads under ThreadSanitizer
#   make slurm-check  a small plan through a private single-node Slurm
#
# Sources are found by wildcard: adding allocators/x.c or workloads/y.c needs
# no change here, only a registry line. Objects and dependency files (-MMD
# -MP) go to $(BUILD); a sanitized build uses its own folder.

CC      ?= gcc
comma   := ,
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD   := build
OPT     ?= -O2
else
BUILD   := build/san-$(subst $(comma),-,$(SANITIZE))
OPT     ?= -O1
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# gcc cannot instrument atomic_thread_fence under TSan and says so (-Wtsan);
# TSan then may report races that a fence orders (tests/tsan.supp names any).
ifneq ($(findstring thread,$(SANITIZE)),)
SANFLAGS += -Wno-tsan
endif
# The fuzz targets' build (FUZZ=1, set by `make fuzz`): clang, libFuzzer
# coverage, ASan and UBSan, in build/fuzz. clang also warns about unused
# static inline functions in .c files, which gcc does not.
ifeq ($(FUZZ),1)
CC      := clang
BUILD   := build/fuzz
OPT     := -O1
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wundef -Wno-format-nonliteral
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -fno-builtin-malloc -fno-builtin-free \
           -MMD -MP -I$(BUILD) $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
# jemalloc first: it owns malloc in mmbench (allocators/jemalloc.c says why);
# mimalloc is reached through mi_* only. tcmalloc is never linked (tcmalloc.c).
# Both are needed even where every reference is weak (jemalloc.c, mimalloc.c
# name a missing entry point instead of failing to load), hence no-as-needed.
LDLIBS  += -Wl,--no-as-needed -ljemalloc -lmimalloc -Wl,--as-needed -pthread -lm -ldl -lhwloc -lpfm

CRIT_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS   := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

LIB_SRC  := $(wildcard allocators/*.c)
WL_SRC   := $(wildcard workloads/*.c)
H_SRC    := $(wildcard harness/*.c harness/*/*.c)
# tests/fuzz holds the libFuzzer targets and tests/inject the LD_PRELOAD
# fault injector: neither belongs in the Criterion binary.
TEST_SRC := $(filter-out tests/fuzz/% tests/inject/% tests/programs/%,$(wildcard tests/*/*.c))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
WL_OBJ   := $(WL_SRC:%.c=$(BUILD)/%.o)
H_OBJ    := $(filter-out $(BUILD)/harness/main.o,$(H_SRC:%.c=$(BUILD)/%.o))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

# Preloaded libraries (preload/): they replace malloc in another program, so
# they are built from position-independent objects of the allocator core
# with hidden symbols and initial-exec TLS, never sanitized and never
# linked with jemalloc or mimalloc. tests/trace_threads.c is a helper
# program for the trace tests; tests/programs/*.c are small programs run
# under the shim and other mallocs (build/tests/prog-NAME); tests/prog_work.c
# is the one the program-cell tests run (build/tests/prog-work, and linked
# statically, prog-work-static).
PIC_CFLAGS := $(OPT) -g -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) -fno-builtin-malloc \
              -fno-builtin-free -MMD -MP -fPIC -fvisibility=hidden -ftls-model=initial-exec
SHIM_CORE := os param pmem memblock buddy slab vmalloc kmemleak kfence stacktrace statefile
SHIM_OBJ := $(SHIM_CORE:%=$(BUILD)/pic/allocators/%.o) $(BUILD)/pic/preload/malloc.o
SHIM_LIB := $(BUILD)/libmmb-malloc.so
# The shim's objects are compiled for link-time optimization, so that slab's
# sheaf pop and push inline into its malloc and free (preload/malloc.c).
$(SHIM_OBJ): LTO_FLAGS := -flto
RECORD_LIB := $(BUILD)/libmmb-record.so
# tests/old_malloclib.c stands in for a jemalloc/mimalloc without the
# entry points the adapters need (test_prod.c's bad input).
OLD_LIBS := $(BUILD)/tests/old-lib/libjemalloc.so.2 $(BUILD)/tests/old-lib/libmimalloc.so.2
PROG_SRC := $(wildcard tests/programs/*.c)
TEST_PROGS := $(BUILD)/tests/trace-threads $(OLD_LIBS) \
              $(PROG_SRC:tests/programs/%.c=$(BUILD)/tests/prog-%) \
              $(BUILD)/tests/prog-work $(BUILD)/tests/prog-work-static

MMBENCH  := $(BUILD)/mmbench
LIBMMB   := $(BUILD)/libmmb.a
TESTS    := $(BUILD)/mmb-tests
INJECT   := $(BUILD)/libmmb-inject.so
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/%)
FUZZ_TIME ?= 60

.PHONY: all check run bench deps clean fuzz fuzz-build tsan-check slurm-check FORCE
.DELETE_ON_ERROR:

all: $(MMBENCH) $(LIBMMB) $(SHIM_LIB) $(RECORD_LIB)

deps:
	@bash scripts/install-deps.sh

# The git revision, compiled into meta.json; rewritten only when it changes.
$(BUILD)/gitrev.h: FORCE
	@mkdir -p $(@D)
	@rev="$$(git describe --always --dirty 2>/dev/null || echo unknown)"; \
	 line="#define MMB_GIT_REV \"$$rev\""; \
	 [ -f $@ ] && [ "$$(cat $@)" = "$$line" ] || echo "$$line" > $@

$(BUILD)/harness/meta.o: $(BUILD)/gitrev.h

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CRIT_CFLAGS) -DMMB_BIN='"$(abspath $(MMBENCH))"' \
	      -DMMB_SRCDIR='"$(abspath .)"' -DMMB_INJECT='"$(abspath $(INJECT))"' -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(PIC_CFLAGS) $(LTO_FLAGS) -c -o $@ $<

$(SHIM_LIB): $(SHIM_OBJ)
	$(CC) $(OPT) -flto=2 -shared -o $@ $^ -Wl,-z,defs -pthread -lm

$(RECORD_LIB): $(BUILD)/pic/preload/record.o
	$(CC) -shared -o $@ $^ -Wl,-z,defs -pthread -ldl

$(BUILD)/tests/trace-threads: tests/trace_threads.c
	@mkdir -p $(@D)
	$(CC) $(PIC_CFLAGS) -o $@ $< -pthread

# tests/prog_work.c: the program the program-cell tests run under every allocator
# (and linked statically: a program LD_PRELOAD cannot reach).
$(BUILD)/tests/prog-work: tests/prog_work.c
	@mkdir -p $(@D)
	$(CC) $(PIC_CFLAGS) -o $@ $< -pthread

$(BUILD)/tests/prog-work-static: tests/prog_work.c
	@mkdir -p $(@D)
	$(CC) $(PIC_CFLAGS) -static -o $@ $< -pthread

$(BUILD)/tests/prog-%: tests/programs/%.c
	@mkdir -p $(@D)
	$(CC) $(PIC_CFLAGS) -o $@ $< -pthread

$(OLD_LIBS): tests/old_malloclib.c
	@mkdir -p $(@D)
	gcc -O2 -std=gnu11 $(WARN) -fPIC -shared -Wl,-soname,$(@F) -o $@ $<

$(LIBMMB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(MMBENCH): $(BUILD)/harness/main.o $(H_OBJ) $(WL_OBJ) $(LIBMMB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TESTS): $(TEST_OBJ) $(H_OBJ) $(WL_OBJ) $(LIBMMB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CRIT_LIBS) -lpng $(LDLIBS)

# The fault injector: no sanitizer flags (it is preloaded into any build).
$(INJECT): tests/inject/inject.c
	@mkdir -p $(@D)
	gcc -O2 -g -std=gnu11 -D_GNU_SOURCE $(WARN) -fPIC -shared -o $@ $< -ldl

# A libFuzzer target links the harness and allocators like the tests do.
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(H_OBJ) $(WL_OBJ) $(LIBMMB)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS)

# Under ASan, a cell that crashes on purpose must die by its signal (as it
# does unsanitized), not through ASan's SEGV report and exit(1).
check: deps
	@$(MAKE) --no-print-directory $(MMBENCH) $(TESTS) $(SHIM_LIB) $(RECORD_LIB) $(TEST_PROGS) \
		$(INJECT)
	@# LeakSanitizer reports when a test's worker process exits, after
	@# Criterion has counted the test as passed: a leak fails check here.
	ASAN_OPTIONS=handle_segv=0:$(ASAN_OPTIONS) $(TESTS) --jobs 2 2>$(BUILD)/check.log; \
	rc=$$?; cat $(BUILD)/check.log >&2; \
	if grep -q 'ERROR: LeakSanitizer' $(BUILD)/check.log; then \
		echo 'check: LeakSanitizer found leaks (above; whole log in $(BUILD)/check.log)' >&2; \
		exit 1; \
	fi; exit $$rc

# The run prints its summary and then its results folder as the last line of
# stdout; the report (figures, notes in DIR/plots/plot.log) follows, and its
# last line is the path of report.html.
run: deps
	@$(MAKE) --no-print-directory $(MMBENCH)
	@out="$$($(MMBENCH) run --suite default)"; st=$$?; printf '%s\n' "$$out"; \
	 [ $$st -eq 0 ] || exit $$st; $(MMBENCH) report "$$(printf '%s\n' "$$out" | tail -n 1)"

bench: deps
	@$(MAKE) --no-print-directory $(MMBENCH) $(SHIM_LIB) $(RECORD_LIB) $(TEST_PROGS)
	$(MMBENCH) bench

# Each target for FUZZ_TIME seconds, one at a time (scripts/fuzz.sh).
fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	bash scripts/fuzz.sh $(FUZZ_TIME)

fuzz-build: $(FUZZ_BIN)

# ThreadSanitizer over the multi-threaded workloads (scripts/tsan-check.sh
# says why mmbench runs them and not the Criterion binary).
tsan-check: deps
	@$(MAKE) --no-print-directory SANITIZE=thread build/san-thread/mmbench
	bash scripts/tsan-check.sh

# A real single-node Slurm on 127.0.0.1 (scripts/slurm-check.sh): a plan
# through `run --slurm` equals a local run; a cancelled task, then resumed.
# "skipped" with the reason where Slurm cannot start (not root, no packages).
slurm-check: deps
	@$(MAKE) --no-print-directory $(MMBENCH)
	MMBENCH=$(MMBENCH) bash scripts/slurm-check.sh

clean:
	rm -rf build

FORCE:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
