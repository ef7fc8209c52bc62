#!/usr/bin/env bash
# slurm-stop.sh — stop the private Slurm of scripts/slurm-start.sh: cancel
# its jobs, then TERM (KILL after 3 s) slurmd, slurmctld and munged by their
# pid files in $MMB_SLURM_DIR (default /tmp/mmb-slurm). Only processes whose
# /proc/PID/comm matches are signalled; a zombie counts as stopped (PID 1
# here reaps slowly). Idempotent; exits 0 when nothing of it runs.
set -uo pipefail

B=${MMB_SLURM_DIR:-/tmp/mmb-slurm}
export PATH="$PATH:/usr/sbin" SLURM_CONF="$B/slurm.conf"

live() {	# live PIDFILE COMM -> prints the pid when alive
	local pid st
	[ -s "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -r "/proc/$pid/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
	[ "$st" != Z ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
}

if [ -s "$SLURM_CONF" ] && live "$B/run/slurmctld.pid" slurmctld >/dev/null; then
	timeout 5 scancel --full -u root >/dev/null 2>&1 || true
	# all users' jobs of this private cluster
	timeout 5 squeue -h -o %i 2>/dev/null | xargs -r timeout 5 scancel >/dev/null 2>&1 || true
fi
for d in slurmd:slurmd slurmctld:slurmctld munged:munged; do
	f="$B/run/${d%%:*}.pid"; c=${d##*:}
	pid=$(live "$f" "$c") || continue
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 30); do live "$f" "$c" >/dev/null || break; sleep 0.1; done
	live "$f" "$c" >/dev/null && kill -KILL "$pid" 2>/dev/null
done
left=""
for d in slurmd slurmctld munged; do live "$B/run/$d.pid" "$d" >/dev/null && left="$left $d"; done
[ -z "$left" ] || { echo "slurm-stop: still running:$left" >&2; exit 1; }
exit 0
