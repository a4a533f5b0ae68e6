#!/usr/bin/env bash
# Whole-model LLM throughput side by side: accelbench's llm workload and llama.cpp (PyPI
# llama-cpp-python, built from source) on the SAME GGUF files: a llama3-8b-shaped model cut to 4 layers
# with a 32000-token vocabulary, synthetic weights, q4_0 and q8_0 (written by the hidden
# `accelbench model-write`, which adds a dummy SPM vocabulary so llama.cpp loads them).
#
#   bench/llm.sh [--threads 1,2] [--layers 4] [--suite full]
#
# Tests: pp512 (512 prompt tokens in one batch) and tg128 (128 single-token steps from an empty
# context), tokens/s, as llama-bench names them. --suite sets accelbench's stopping rule (full: up to
# 20 s of samples per case, ~6 calls of pp512/tg128 at 1 thread; quick stops after one ~3 s call);
# llama.cpp takes the median of 3 runs after a warm-up. Read the last table: `ours` and `llama.cpp` tok/s
# per file, test and thread count, and `ratio` = ours / llama.cpp (>1: accelbench faster).
# The engines alternate per file and thread count (ours, then llama.cpp), so each pair sees the
# same memory bandwidth; read the load averages both print before trusting a ratio. Files: .build/bench-models/llama3-8b-L4-v32000-{q4_0,q8_0}.gguf
# (reused when present), results/llm-llama3-8b-L4-v32000-{q4_0,q8_0}-{1,2}T-STAMP.json, results/llm-STAMP.csv (ours),
# results/llm-llamacpp-STAMP.csv. ACCELBENCH=path/to/accelbench skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: bench/llm.sh [--threads 1,2] [--layers 4] [--suite full]" >&2; exit 2; }
threads=1,2
layers=4
suite=full
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) [ $# -ge 2 ] || usage; threads="$2"; shift ;;
        --layers) [ $# -ge 2 ] || usage; layers="$2"; shift ;;
        --suite) [ $# -ge 2 ] || usage; suite="$2"; shift ;;
        *) usage ;;
    esac
    shift
done
[[ "$threads" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench/llm.sh: --threads takes a list like 1,2 (got '$threads')" >&2; exit 2; }
[[ "$layers" =~ ^[1-9][0-9]*$ ]] || { echo "bench/llm.sh: --layers takes a positive number (got '$layers')" >&2; exit 2; }
bin=${ACCELBENCH:-}
if [ -z "$bin" ]; then
    swift build -c release --product accelbench >/dev/null
    bin=.build/release/accelbench
fi
[ -x "$bin" ] || { echo "bench/llm.sh: no accelbench binary at $bin" >&2; exit 2; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p results .build/bench-models
csv="results/llm-$stamp.csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

models=()
for dtype in q4_0 q8_0; do
    f=.build/bench-models/llama3-8b-L$layers-v32000-$dtype.gguf
    if [ ! -s "$f" ]; then
        echo "== writing $f"
        $bin model-write --model llama3-8b --layers "$layers" --vocab 32000 --dtype "$dtype" --output "$f"
    fi
    models+=("$f")
done

venv=.build/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import llama_cpp' 2>/dev/null || "$venv/bin/pip" install -q llama-cpp-python
peer="results/llm-llamacpp-$stamp.csv"

# The two engines alternate per file and thread count (ours, then llama.cpp, on the same file and
# threads), so both see the same memory bandwidth: on a shared host it drifts by half within minutes,
# and tg is bandwidth-bound. Exit status 3 (a case failed its check) still leaves a CSV; anything
# else stops here.
status=0
first=1
peer_first=1
for f in "${models[@]}"; do
    for t in $(echo "$threads" | tr ',' ' '); do
        echo "== accelbench: $f, $t thread(s)"
        rc=0
        $bin run --weights "$f" --shape gguf:pp512 --shape gguf:tg128 --threads "$t" --suite "$suite" --format csv \
            --output "results/llm-$(basename "$f" .gguf)-${t}T-$stamp.json" >"$tmp/ours.csv" || rc=$?
        if [ "$rc" = 3 ]; then status=3; elif [ "$rc" != 0 ]; then exit "$rc"; fi
        if [ "$first" = 1 ]; then head -1 "$tmp/ours.csv" | sed 's/^/file,/' >"$csv"; first=0; fi
        tail -n +2 "$tmp/ours.csv" | sed "s|^|$f,|" >>"$csv"
        echo "== llama.cpp (PyPI llama-cpp-python): $f, $t thread(s)"
        "$venv/bin/python" bench/llm_llamacpp.py --model "$f" --threads "$t" --csv "$tmp/peer.csv"
        if [ "$peer_first" = 1 ]; then head -1 "$tmp/peer.csv" >"$peer"; peer_first=0; fi
        tail -n +2 "$tmp/peer.csv" >>"$peer"
    done
done
echo "accelbench CSV: $csv"

python3 - "$csv" "$peer" <<'EOF'
import csv, os, sys
ours = {}
for r in csv.DictReader(open(sys.argv[1])):
    test = r["shape"].split(":")[1] if ":" in r["shape"] else r["shape"]
    ours[(r["file"], int(r["threads"]), test)] = (float(r["median"]) if r.get("median") else None, r.get("n", ""))
print("\n%-32s %-6s %3s %10s %3s %10s %7s" % ("file", "test", "T", "ours", "n", "llama.cpp", "ratio"))
for r in csv.DictReader(open(sys.argv[2])):
    key = (r["model"], int(r["threads"]), r["test"])
    theirs = float(r["tokens_per_s"])
    mine, n = ours.get(key, (None, ""))
    print("%-32s %-6s %3s %10s %3s %10.2f %7s" % (os.path.basename(r["model"]), r["test"], r["threads"],
          "%.2f" % mine if mine else "-", n, theirs, "%.2f" % (mine / theirs) if mine else "-"))
print("(tok/s, medians (n: accelbench samples; llama.cpp: 3 runs); ratio = ours / llama.cpp, >1: accelbench faster)")
EOF
echo "llama.cpp CSV: $peer"
exit "$status"
