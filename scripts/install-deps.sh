#!/usr/bin/env bash
# install-deps.sh — install every Debian package mmbench uses, idempotently.
#
# Quick when everything is present (one dpkg-query, no apt-get). When something is missing:
# as root, `apt-get update` then `apt-get install -y` the missing packages; not as root, print
# the exact command to run and exit 2.
set -euo pipefail

PKGS=(
	gcc make pkg-config
	libjemalloc-dev libhwloc-dev libpfm4-dev
	gnuplot-nox libcriterion-dev libpng-dev chromium
	libmimalloc-dev libgoogle-perftools-dev
	clang libclang-rt-14-dev
	slurmctld slurmd slurm-client munge
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; run:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
