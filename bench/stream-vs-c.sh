#!/usr/bin/env bash
# STREAM triad: a plain C reference (bench/stream_c.c, gcc -O3 -march=native) next to accelbench's
# STREAM workload, for 1 and 2 threads. Run from anywhere; needs gcc and a release build of accelbench
# (swift build -c release). STREAM_ELEMENTS overrides the C program's array length (default 2^25).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
accelbench="$root/.build/release/accelbench"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

gcc -O3 -march=native -pthread -o "$workdir/stream_c" "$root/bench/stream_c.c"

echo "== plain C (gcc -O3 -march=native)"
for threads in 1 2; do
    "$workdir/stream_c" "$threads" ${STREAM_ELEMENTS:+"$STREAM_ELEMENTS"}
done

echo "== accelbench"
if [[ ! -x "$accelbench" ]]; then
    echo "error: $accelbench not found; build it with: swift build -c release" >&2
    exit 1
fi
for threads in 1 2; do
    "$accelbench" run --workload stream --threads "$threads" --format table
done
