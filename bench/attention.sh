#!/usr/bin/env bash
# Attention side by side: our fused kernels (swift-simd) against the OpenBLAS composition in one process,
# then (with --with-ort) onnxruntime's MultiHeadAttention on the same prefill shape, then the peak
# resident memory of fused vs unfused at q = kv = 16384.
#
#   bench/attention.sh [--with-ort] [--threads 1,2]
#
# Read: the `vs` column (swift-simd / openblas on the same case), `%peak` (of the measured fp32 FMA
# ceiling), the memory column of decode cases (KV GB/s and % of the measured read-only ceiling), and the
# peak RSS lines at the end. Results also land in results/attention-*.json / .csv.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=1,2
ort=0
while [ $# -gt 0 ]; do
    case "$1" in
        --with-ort) ort=1 ;;
        --threads) threads="$2"; shift ;;
        *) echo "usage: bench/attention.sh [--with-ort] [--threads 1,2]" >&2; exit 2 ;;
    esac
    shift
done
swift build -c release --product accelbench >/dev/null
bin=.build/release/accelbench
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p results

echo "== prefill fp32 (non-causal h32 d128 q=kv=2048; causal Llama-3-8B) and decode (fp16 KV, GQA 1/4/8)"
$bin run --suite standard --workload attention --backend swift-simd,openblas --threads "$threads" \
    --shape b1:h32:q2048:kv2048:d128 --shape llama3-8b:prefill2048 --dtype fp32 \
    --output "results/attention-prefill-$stamp.json"
$bin run --suite standard --workload attention --backend swift-simd,openblas --threads "$threads" \
    --shape b1:h8:kvh8:decode8192:d128 --shape llama3-8b:decode8192 --shape b1:h64:kvh8:decode8192:d128 --dtype kv=f16 \
    --output "results/attention-decode-$stamp.json"

if [ "$ort" = 1 ]; then
    echo "== onnxruntime MultiHeadAttention fp32, h32 d128 q=kv=2048 non-causal (PyPI onnxruntime)"
    venv=.build/bench-venv
    # the venv is shared with bench/llm.sh and bench/quant.sh: install what is missing, not only when it is new
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -c 'import onnxruntime, onnx, numpy' 2>/dev/null || "$venv/bin/pip" install -q onnxruntime onnx numpy
    "$venv/bin/python" bench/attention_ort.py --threads $(echo "$threads" | tr ',' ' ')
fi

echo "== peak resident memory at q = kv = 16384 (h8 d128, causal): fused vs materialized scores"
$bin run --workload attention --backend swift-simd,openblas --threads 2 --no-ceilings --quiet \
    --shape b1:h8:kvh8:q16384:kv16384:d128:causal --format csv --output "results/attention-memory-$stamp.json" \
    | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
elements = 8 * 16384 * 128
for r in rows:
    kv_bytes = 2 if r["dtype"] == "kv=fp16" else 4
    qkvo = 2 * elements * 4 + 2 * elements * kv_bytes
    rss = int(r["peak_rss_bytes"] or 0)
    print("%10s %s: %s, median %.1f GFLOPS, peak RSS %.0f MiB = %.2fx Q+K+V+O (%.0f MiB)" % (
        r["backend"], r["dtype"], r["status"], float(r["median"] or 0), rss / 2**20, rss / qkvo, qkvo / 2**20))
'
