#!/usr/bin/env bash
# slurm-check.sh — `make slurm-check`: mmbench through a real Slurm.
#
# Starts a private single-node Slurm on 127.0.0.1 (scripts/slurm-start.sh,
# its own folder and ports, so a Slurm the machine already runs is not
# touched), then:
#   1. runs a small plan (8 cells: 2 allocators x 2 workloads x 2 reps,
#      fixed --ops so op_checksum is deterministic) locally and through
#      `mmbench run --slurm --wait`, and checks that the merged cells.csv
#      equals the local one in every identity column (cell, allocator,
#      config, workload, params, threads, rep, seed, status, op_checksum);
#      prints the Slurm overhead per cell;
#   2. submits the plan again, cancels one array task (scancel ARRAY_3), and
#      checks that the merge records exactly that task's cell as "lost" with
#      Slurm's reason, and that `run --resume DIR --slurm --wait` runs only
#      that cell and leaves a folder equal to the local run;
#   3. checks that the daemons listen on loopback only;
# and stops every daemon it started, by pid, on any exit.
#
# Where Slurm cannot start here (not root, packages missing) it prints
# "slurm-check: skipped: REASON" and exits 0: skipped, never "passed".
set -euo pipefail
cd "$(dirname "$0")/.."

MMB=${MMBENCH:-build/mmbench}
export MMB_SLURM_DIR=${MMB_SLURM_CHECK_DIR:-/tmp/mmb-slurm-check}
export MMB_SLURM_PORT=${MMB_SLURM_CHECK_PORT:-16917}
export PATH="$PATH:/usr/sbin"
W=$(mktemp -d /tmp/mmb-slurm-check-runs.XXXXXX)

skip() { echo "slurm-check: skipped: $*"; rm -rf "$W"; exit 0; }
fail() { echo "slurm-check: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "not root (slurmd must run as root to run jobs)"
for b in slurmctld slurmd munged sbatch squeue; do
	command -v "$b" >/dev/null 2>&1 || skip "$b not installed (scripts/install-deps.sh installs slurmctld slurmd slurm-client munge)"
done
[ -x "$MMB" ] || fail "$MMB not built"

cleanup() {
	bash scripts/slurm-stop.sh || true
	rm -rf "$W"
}
trap cleanup EXIT

out=$(MMB_SLURM_FRESH=1 bash scripts/slurm-start.sh) || fail "the private Slurm did not start"
eval "$out"		# export SLURM_CONF=...
echo "slurm-check: private Slurm up ($SLURM_CONF)"

PLAN=(-a glibc,buddy -w churn:size=64,sizes -t 1 -r 2 --ops 3000 --cell-timeout 30)

# identity FILE: the identity columns of cells.csv, one line per cell, sorted
identity() {
	# commas inside quoted fields become ';' so cut can split the row
	sed -E ':a; s/("[^",]*),([^"]*")/\1;\2/; ta' "$1" | awk -F, -v want="cell allocator config workload params threads rep seed status op_checksum" '
		NR == 1 { n = split(want, w, " "); for (i = 1; i <= NF; i++) col[$i] = i; next }
		{ line = ""; for (j = 1; j <= n; j++) line = line (j > 1 ? "," : "") $(col[w[j]]); print line }' | sort -t, -k1,1n
}

t0=$(date +%s.%N)
"$MMB" run -q "${PLAN[@]}" -o "$W/local" >/dev/null
t1=$(date +%s.%N)
"$MMB" run --slurm --wait -q "${PLAN[@]}" -o "$W/slurm" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; fail "the Slurm run failed"; }
t2=$(date +%s.%N)
identity "$W/local/cells.csv" >"$W/id.local"
identity "$W/slurm/cells.csv" >"$W/id.slurm"
[ "$(wc -l <"$W/id.local")" -eq 8 ] || fail "the local run has $(wc -l <"$W/id.local") cells, not 8"
grep -q ',ok,' "$W/id.local" || fail "no ok cell in the local run"
diff "$W/id.local" "$W/id.slurm" >&2 || fail "the merged folder differs from the local run in identity columns"
[ -s "$W/slurm/nodes.csv" ] && [ "$(wc -l <"$W/slurm/nodes.csv")" -eq 9 ] || fail "nodes.csv does not list 8 cells"
grep -q '"slurm"' "$W/slurm/meta.json" || fail "meta.json has no slurm section"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "slurm-check: 8 cells: local %.2f s, through Slurm %.2f s: %.2f s more per cell\n", b - a, c - b, (c - b - (b - a)) / 8 }'

# 2. a cancelled task, its lost cell, and the resume
dir="$W/cancel"
"$MMB" run --slurm -q "${PLAN[@]}" -o "$dir" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; fail "submit failed"; }
A=$(sed -n 's/^array=//p' "$dir/slurm/sub-1/jobs.txt")
M=$(sed -n 's/^merge=//p' "$dir/slurm/sub-1/jobs.txt")
scancel "${A}_3"
for _ in $(seq 1 600); do
	[ -z "$(squeue -h -j "$A,$M" -t PD,R,CG,S,CF -o %i 2>/dev/null)" ] && break
	sleep 0.2
done
[ "$(grep -c ',lost,' "$dir/cells.csv")" -eq 1 ] || fail "expected exactly one lost cell after cancelling task 3"
grep -q '^4,.*,lost,"\{0,1\}slurm job '"${A}_3" "$dir/cells.csv" || fail "cell 4 is not recorded lost with its Slurm job"
"$MMB" run --resume "$dir" --slurm --wait -q >/dev/null 2>"$W/err" || { cat "$W/err" >&2; fail "resume through Slurm failed"; }
[ "$(grep -c . "$dir/slurm/sub-2/tasks.txt")" -eq 1 ] || fail "the resume submitted more than the lost cell"
identity "$dir/cells.csv" >"$W/id.cancel"
diff "$W/id.local" "$W/id.cancel" >&2 || fail "after the resume the folder differs from the local run"

# 3. loopback only
if command -v ss >/dev/null 2>&1; then
	ss -ltn | awk -v p="$MMB_SLURM_PORT" -v q="$((MMB_SLURM_PORT + 1))" '$4 ~ ":"p"$" || $4 ~ ":"q"$"' >"$W/listen"
	[ -s "$W/listen" ] || fail "no daemon listening on ports $MMB_SLURM_PORT/$((MMB_SLURM_PORT + 1))"
	! grep -v '127\.0\.0\.1:' "$W/listen" >&2 || fail "a daemon listens beyond loopback"
fi
echo "slurm-check: passed (8-cell plan through Slurm equals the local run; a cancelled task's cell was lost, then resumed)"
