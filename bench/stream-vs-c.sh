#!/usr/bin/env bash
# STREAM triad side by side: a plain C triad (bench/stream_c.c, gcc -O3 -march=native) and accelbench's
# stream workload on the same array length, alternating, for 1 and 2 threads; prints both medians and
# their ratio. Needs gcc and a release build (make build). STREAM_ELEMENTS sets the array length
# (default 2^25 doubles = 256 MiB per array), ROUNDS the number of alternations (default 3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
accelbench="$root/.build/release/accelbench"
elements="${STREAM_ELEMENTS:-33554432}"
rounds="${ROUNDS:-3}"
if [[ ! -x "$accelbench" ]]; then
    echo "error: $accelbench not found; build it first with: make build" >&2
    exit 1
fi
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
gcc -O3 -march=native -pthread -o "$workdir/stream_c" "$root/bench/stream_c.c"

printf '%-8s %-6s %14s %14s %7s\n' threads round "plain C GB/s" "accelbench" ratio
for threads in 1 2; do
    for round in $(seq "$rounds"); do
        c=$("$workdir/stream_c" "$threads" "$elements" | sed -E 's/.*median ([0-9.]+) GB\/s.*/\1/')
        ours=$("$accelbench" run --no-ceilings --quiet --workload stream --shape "triad:$elements" \
            --threads "$threads" --format csv --output "$workdir/run.json" | awk -F, 'NR == 2 { print $6 }')
        awk -v t="$threads" -v r="$round" -v c="$c" -v o="$ours" 'BEGIN { printf "%-8s %-6s %14.1f %14.1f %7.3f\n", t, r, c, o, o / c }'
    done
done
