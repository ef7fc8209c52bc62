#!/usr/bin/env bash
# tsan-check.sh — the multi-threaded workloads under ThreadSanitizer, over
# every allocator whose code TSan can see (build/san-thread/mmbench).
#
# Why not the Criterion tests: Criterion cannot start under TSan ("Could not
# initialize inheritable arena", Snaipe/Criterion#274), so the check runs
# mmbench itself, whose cells are the TSan-built binary too. Each cell runs
# TSAN_ALLOCS x TSAN_WORKLOADS at 2 threads with --check and the stats
# sampler; a race report ends the cell (exit 66), which the run records as
# failed. (cache-scratch is left out: under TSan it takes minutes a cell.) Allocators that are uninstrumented libraries (glibc, jemalloc,
# mimalloc, tcmalloc) are left out: TSan does not see their locking, so
# every block they recycle across threads would be reported.
#
# tests/tsan.supp suppresses the races already reported to their owners
# (each line says where); a new race fails the check. Exit 0 = no race.
set -uo pipefail
cd "$(dirname "$0")/.."

bin=build/san-thread/mmbench
want=${TSAN_ALLOCS:-"buddy slab vmalloc kmalloc-slab kmalloc-slob"}
workloads=${TSAN_WORKLOADS:-"xthread,larson,threadtest"}
out=build/san-thread/tsan-run
log=build/san-thread/tsan.log

allocs=""
for a in $want; do
	if "$bin" list allocators | awk '{ print $1 }' | grep -qx "$a"; then
		allocs="$allocs${allocs:+,}$a:mem=64M"
	else
		echo "tsan-check: no allocator $a in this build, skipped"
	fi
done
[ -n "$allocs" ] || { echo "tsan-check: no allocator to check"; exit 1; }

rm -rf "$out"
TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$PWD/tests/tsan.supp ${TSAN_OPTIONS:-}" \
	"$bin" run -q -o "$out" -a "$allocs" -w "$workloads" -t 2 --ops 2000 --check \
	--cell-timeout 120 >"$log" 2>&1
rc=$?
# The status follows the seed (digits); params before it may hold quoted commas.
bad=$(tail -n +2 "$out/cells.csv" 2>/dev/null | grep -vE ',[0-9]+,ok,' | cut -c1-100 | sed 's/^/    /')
if [ $rc -ne 0 ] || [ -n "$bad" ] || ! [ -f "$out/cells.csv" ]; then
	echo "tsan-check: FAILED (run exit $rc); cells not ok:"
	echo "${bad:-    (no cells.csv)}"
	grep -E '^SUMMARY: ThreadSanitizer' "$log" | sort | uniq -c | sed 's/^/    /'
	echo "tsan-check: full reports in $log"
	exit 1
fi
echo "tsan-check: $(($(wc -l <"$out/cells.csv") - 1)) cells ($allocs x $workloads, 2 threads): no race"
