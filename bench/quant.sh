#!/usr/bin/env bash
# Quantized GEMV/GEMM side by side: our kernels (backend quant: q4_0, q8_0, w8a8) on the decode and
# prefill shapes, then (with --with-ort) onnxruntime's MatMulNBits (4/8-bit, block 32, int8 compute),
# MatMulInteger and DynamicQuantizeMatMul on the same shapes, and the ratio per shape and thread count.
#
#   bench/quant.sh [--with-ort] [--threads 1,2]
#
# Shapes (accelbench MxNxK = outputs x tokens x K): qgemv 4096x1x4096:hot, 4096x1x4096:cold,
# 14336x1x4096:cold, 4096x1x14336:cold; qgemm 4096x512x4096. qgemv and qgemm take different shapes,
# so they are two runs.
# Read: GFLOPS, weight GB/s and (cold) the fraction of a paired plain read per case, then the ORT table and its `speedup` column (ORT µs / our µs,
# >1: we are faster). Results land in results/quant-{qgemv,qgemm}-STAMP.json, results/quant-STAMP.csv
# (ours, both runs) and results/quant-ort-STAMP.csv. ACCELBENCH=path/to/accelbench skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: bench/quant.sh [--with-ort] [--threads 1,2]" >&2; exit 2; }
threads=1,2
ort=0
while [ $# -gt 0 ]; do
    case "$1" in
        --with-ort) ort=1 ;;
        --threads) [ $# -ge 2 ] || usage; threads="$2"; shift ;;
        *) usage ;;
    esac
    shift
done
[[ "$threads" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench/quant.sh: --threads takes a list like 1,2 (got '$threads')" >&2; exit 2; }
bin=${ACCELBENCH:-}
if [ -z "$bin" ]; then
    swift build -c release --product accelbench >/dev/null
    bin=.build/release/accelbench
fi
[ -x "$bin" ] || { echo "bench/quant.sh: no accelbench binary at $bin" >&2; exit 2; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p results
csv="results/quant-$stamp.csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Exit status 3 (a case failed its check) still leaves a CSV and the other run; anything else stops here.
status=0
run() {
    local name=$1; shift
    local rc=0
    $bin run --backend quant --dtype q4_0,q8_0,w8a8 --threads "$threads" --format csv \
        --output "results/quant-$name-$stamp.json" "$@" >"$tmp/$name.csv" || rc=$?
    if [ "$rc" = 3 ]; then status=3; elif [ "$rc" != 0 ]; then exit "$rc"; fi
}
echo "== qgemv (decode, 1 token): 4096x1x4096 hot and cold, 14336x1x4096 and 4096x1x14336 cold"
run qgemv --workload qgemv --shape 4096x1x4096:hot --shape 4096x1x4096:cold --shape 14336x1x4096:cold \
    --shape 4096x1x14336:cold
echo "== qgemm (prefill, 512 tokens): 4096x512x4096"
run qgemm --workload qgemm --shape 4096x512x4096
{ cat "$tmp/qgemv.csv"; tail -n +2 "$tmp/qgemm.csv"; } >"$csv"

python3 - "$csv" <<'EOF'
import csv, sys
# "vs read": cold cases against a plain read of the same weight bytes timed in alternation with them
# (median per-pair ratio and its 95% interval); the figure the DRAM bar is judged by.
print("%-6s %-5s %-18s %3s %9s %9s %9s %9s %-19s %-7s %s" % ("", "dtype", "shape", "T", "GFLOPS", "p5", "p95", "wt GB/s",
      "vs read [95% CI]", "status", "kernel path"))
for r in csv.DictReader(open(sys.argv[1])):
    f = lambda key: "%9.1f" % float(r[key]) if r.get(key) else "%9s" % "-"
    paired = "-"
    if r.get("paired_fraction"):
        paired = "%.1f%%" % (100 * float(r["paired_fraction"]))
        if r.get("paired_fraction_low95"):
            paired += " [%.1f-%.1f]" % (100 * float(r["paired_fraction_low95"]), 100 * float(r["paired_fraction_high95"]))
    print("%-6s %-5s %-18s %3s %s %s %s %s %-19s %-7s %s" % (r["workload"], r["dtype"], r["shape"], r["threads"], f("median"),
          f("p5"), f("p95"), f("secondary_median"), paired, r["status"], r["kernel_path"]))
EOF
echo "accelbench CSV: $csv"

if [ "$ort" = 1 ]; then
    echo "== onnxruntime MatMulNBits / MatMulInteger / DynamicQuantizeMatMul (PyPI onnxruntime)"
    venv=.build/bench-venv
    # the venv is shared with bench/llm.sh and bench/attention.sh: install what is missing, not only when it is new
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -c 'import onnxruntime, onnx, numpy' 2>/dev/null || "$venv/bin/pip" install -q onnxruntime onnx numpy
    "$venv/bin/python" bench/quant_ort.py --threads $(echo "$threads" | tr ',' ' ') \
        --accelbench-csv "$csv" --csv "results/quant-ort-$stamp.csv"
fi
exit "$status"
