#!/usr/bin/env bash
# fuzz.sh SECONDS — run every libFuzzer target in build/fuzz for SECONDS
# each, one at a time, and fail if any crashed.
#
# Each target fuzz_NAME starts from its committed seeds, tests/fuzz/corpus/NAME,
# and keeps what it finds in build/fuzz/corpus/NAME (the committed seeds stay
# as they are). fuzz_alloc runs once per config in FUZZ_ALLOCS (separated by
# spaces; each may be several configs joined by ';', see fuzz_alloc.c);
# a config this build lacks is skipped. FUZZ_TARGETS (names, e.g. "buddy csv")
# runs only those targets. Crash inputs go to
# build/fuzz/artifacts/, logs to build/fuzz/logs/. One line per run is
# appended to build/fuzz/ledger.tsv (date, target, seconds, execs, crashes),
# and the totals per target over the ledger are printed at the end, so
# several sessions add up to the time a target has been fuzzed.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
allocs=${FUZZ_ALLOCS:-"buddy:mem=16M;buddy:mem=16M,pcp=off;buddy:mem=16M,migratetypes=off slab:mem=16M vmalloc:mem=16M kmalloc-slab:mem=16M kmalloc-slob:mem=16M"}
dir=build/fuzz
mkdir -p "$dir/logs" "$dir/artifacts"
ledger=$dir/ledger.tsv
failed=0

run_one() {	# run_one LABEL CORPUS BINARY [env assignments]
	local label=$1 corpus=$2 bin=$3 log=$dir/logs/$1.log rc execs crashes
	shift 3
	mkdir -p "$dir/corpus/$label"
	env "$@" "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 \
		-artifact_prefix="$dir/artifacts/$label-" "$dir/corpus/$label" "tests/fuzz/corpus/$corpus" \
		>"$log" 2>&1
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "fuzz: $label skipped: $(grep -m1 'skipped' "$log")"
		return
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	crashes=0
	if [ $rc -ne 0 ]; then
		crashes=1
		failed=1
		echo "fuzz: $label CRASHED (exit $rc); input in $dir/artifacts/$label-*, log $log:"
		grep -m3 -E 'invariant broken|ERROR:|SUMMARY' "$log" | sed 's/^/    /'
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$label" "$secs" "${execs:-0}" "$crashes" \
		>>"$ledger"
	echo "fuzz: $label: ${secs}s, ${execs:-?} execs, $crashes crashes"
}

for bin in "$dir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then
		continue
	fi
	if [ "$name" = alloc ]; then
		for a in $allocs; do
			run_one "alloc-${a%%[:;]*}" alloc "$bin" MMB_FUZZ_ALLOC="$a"
		done
	else
		run_one "$name" "$name" "$bin"
	fi
done

echo "fuzz: totals over $ledger (target, seconds, execs, crashes):"
awk -F'\t' '{ s[$2] += $3; e[$2] += $4; c[$2] += $5 }
	END { for (t in s) printf "    %-16s %8d %12d %4d\n", t, s[t], e[t], c[t] }' "$ledger" | sort
exit $failed
