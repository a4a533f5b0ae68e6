#!/usr/bin/env python3
"""onnxruntime's quantized CPU kernels (MLAS) on accelbench's quant shapes, as peer figures for the
qgemv/qgemm workloads, and the ratio against accelbench's own figures from a CSV it just wrote.

Peers (CPU EP, intra_op_num_threads = T, inter_op 1, sequential execution):
  com.microsoft MatMulNBits bits=4 / bits=8, block_size=32, accuracy_level=4 (int8 compute), no zero
    points (the op's default 2^(bits-1): q4_0's +8 offset), random weights quantized symmetrically per
    32-block: peer of q4_0 / q8_0. M=1 (GEMV, hot and cold) and M=512 (GEMM).
  MatMulInteger, u8 activations (zero point 128) x s8 weights (zero point 0), int32 out, M=512: the bare
    int8 GEMM, a peer of w8a8 (our w8a8 also quantizes X and scales to fp32 inside the timed call).
  com.microsoft DynamicQuantizeMatMul (fp32 in, u8 per-tensor activation quantization inside, s8
    per-column weights, fp32 out), M=1 and M=512: the closest whole-op peer of w8a8.
Cold GEMV: one graph of C nodes, each with its own weights, all on the same input, C such that C x
(weight bytes) >= 4 x the last-level cache (accelbench's rule); time per GEMV = time per run / C.

Shapes follow ONNX: Y[M, N] = A[M, K] x W (N output features). accelbench's MxNxK is (outputs, tokens,
K), so its 4096x1x4096:hot is M=1, N=4096, K=4096 here.

Timing: IOBinding with preallocated outputs, warm-up calls, then samples until both --min-calls and
--seconds are reached (or --max-seconds passed); median, p5 and p95. Every case's output is checked
against a float64 reference over the dequantized weights (err = max|y - ref| / max|ref| over a few rows;
int8 activation rounding makes ~1e-3..1e-2 normal, ~1 means a layout misunderstanding).
Needs `pip install onnxruntime onnx numpy` (bench/quant.sh makes a venv for it).
"""
import argparse
import csv
import math
import os
import re
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

BLOCK = 32
PEER_DTYPE = {"MatMulNBits-4": "q4_0", "MatMulNBits-8": "q8_0", "MatMulInteger": "w8a8", "DynamicQuantizeMatMul": "w8a8"}


def llc_bytes() -> int:
    try:
        text = open("/sys/devices/system/cpu/cpu0/cache/index3/size").read().strip()
        m = re.fullmatch(r"(\d+)\s*([KMG]?)", text, re.I)
        if m:
            return int(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m.group(2).upper()]
    except OSError:
        pass
    return 32 * 2**20


def quantize_nbits(w: np.ndarray, bits: int):
    """W [N, K] float -> MatMulNBits B [N, K/32, 32*bits/8] uint8 and scales [N, K/32] float32, symmetric
    per block with the op's default zero point 2^(bits-1) (4-bit: ggml q4_0's rule, d = signed absmax / -8)."""
    n, k = w.shape
    wb = w.reshape(n, k // BLOCK, BLOCK)
    if bits == 4:
        idx = np.abs(wb).argmax(axis=2)[..., None]
        d = np.take_along_axis(wb, idx, 2)[..., 0] / -8.0
    else:
        d = np.abs(wb).max(axis=2) / 127.0
    d[d == 0] = 1.0
    zp = 2 ** (bits - 1)
    q = np.clip(np.rint(wb / d[..., None]) + zp, 0, 2**bits - 1).astype(np.uint8)
    if bits == 4:  # element 2i in the low nibble, 2i+1 in the high nibble
        q = q[..., 0::2] | (q[..., 1::2] << 4)
    return np.ascontiguousarray(q), d.astype(np.float32)


def dequantize_nbits(b: np.ndarray, scales: np.ndarray, bits: int) -> np.ndarray:
    n, kb, _ = b.shape
    if bits == 4:
        q = np.empty((n, kb, BLOCK), np.uint8)
        q[..., 0::2] = b & 0xF
        q[..., 1::2] = b >> 4
    else:
        q = b
    return ((q.astype(np.float64) - 2 ** (bits - 1)) * scales.reshape(n, kb, 1)).reshape(n, kb * BLOCK)


def random_nbits(rng, n: int, k: int, bits: int):
    """Random codes and scales directly in the layout (cold copies: quantizing floats would only cost time)."""
    kb = k // BLOCK
    b = rng.integers(0, 256, (n, kb, BLOCK * bits // 8), dtype=np.uint8)
    return b, rng.uniform(0.5, 1.5, (n, kb)).astype(np.float32) / (64.0 if bits == 4 else 1024.0)


class Case:
    """One ONNX graph: `nodes` copies of the op on input A, each copy with its own weights (cold) or one."""

    def __init__(self, op, bits, m, n, k, residency, copies, weight_bytes, make_graph, reference):
        self.op, self.bits, self.m, self.n, self.k = op, bits, m, n, k
        self.residency, self.copies, self.weight_bytes = residency, copies, weight_bytes
        self.make_graph = make_graph  # layout -> (nodes, initializers, input info, output infos)
        self.reference = reference  # (feeds, outputs) -> err
        self.layout = None

    @property
    def label(self):
        return self.op if self.bits is None else f"{self.op}-{self.bits}"

    def model(self, layout) -> bytes:
        nodes, inits, inputs, outputs = self.make_graph(layout)
        graph = helper.make_graph(nodes, self.label, inputs, outputs, initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
        return model.SerializeToString()


def session_for(case: Case, threads: int, layouts):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    errors = []
    for layout in ([case.layout] if case.layout else layouts):
        try:
            session = ort.InferenceSession(case.model(layout), options, providers=["CPUExecutionProvider"])
            if case.layout is None and layout != layouts[0]:
                print(f"# {case.label}: layout '{layouts[0]}' refused ({errors[0]}); '{layout}' loads", file=sys.stderr)
            case.layout = layout
            return session
        except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/... types
            errors.append(f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300]}")
    raise RuntimeError("; ".join(errors))


def measure(session, feeds, out_specs, args):
    binding = session.io_binding()
    for name, value in feeds.items():
        binding.bind_cpu_input(name, value)
    outputs = {}
    for name, (shape, dtype) in out_specs.items():
        outputs[name] = np.empty(shape, dtype)
        binding.bind_ortvalue_output(name, ort.OrtValue.ortvalue_from_numpy(outputs[name]))
    for _ in range(args.warmup):
        session.run_with_iobinding(binding)
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        session.run_with_iobinding(binding)
        t1 = time.perf_counter()
        times.append(t1 - t0)
        elapsed = t1 - start
        if len(times) >= args.min_calls and elapsed >= args.seconds:
            break
        if elapsed >= args.max_seconds and len(times) >= 5:
            break
    return np.array(times), outputs


def rel_err(y, ref) -> float:
    scale = float(np.max(np.abs(ref))) or 1.0
    return float(np.max(np.abs(y.astype(np.float64) - ref))) / scale


def nbits_case(rng, m, n, k, bits, weights, residency="hot", copies=1):
    """weights: list of (B, scales), one per copy."""
    kb = k // BLOCK
    x = rng.uniform(-1, 1, (m, k)).astype(np.float32)

    def make_graph(layout):
        nodes, inits, outs = [], [], []
        for i, (b, s) in enumerate(weights):
            sc = s if layout == "scales[N,k_blocks]" else s.reshape(-1)
            inits += [numpy_helper.from_array(b, f"B{i}"), numpy_helper.from_array(sc, f"scales{i}")]
            nodes.append(helper.make_node(
                "MatMulNBits", ["A", f"B{i}", f"scales{i}"], [f"Y{i}"], domain="com.microsoft",
                K=k, N=n, bits=bits, block_size=BLOCK, accuracy_level=4))
            outs.append(helper.make_tensor_value_info(f"Y{i}", TensorProto.FLOAT, [m, n]))
        return nodes, inits, [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])], outs

    rows = min(m, 4)

    def reference(outputs):
        errs = []
        for i in sorted({0, len(weights) - 1}):
            b, s = weights[i]
            ref = x[:rows].astype(np.float64) @ dequantize_nbits(b, s, bits).T
            errs.append(rel_err(outputs[f"Y{i}"][:rows], ref))
        return max(errs)

    wbytes = weights[0][0].nbytes + weights[0][1].nbytes
    case = Case("MatMulNBits", bits, m, n, k, residency, copies, wbytes, make_graph, reference)
    case.feeds = {"A": x}
    case.out_specs = {f"Y{i}": ((m, n), np.float32) for i in range(copies)}
    case.layouts = ["scales[N,k_blocks]", "scales[N*k_blocks]"]
    return case


def matmulinteger_case(rng, m, n, k, b_s8):
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)

    def make_graph(_):
        inits = [numpy_helper.from_array(b_s8, "B"), numpy_helper.from_array(np.array(128, np.uint8), "a_zero_point")]
        node = helper.make_node("MatMulInteger", ["A", "B", "a_zero_point"], ["Y"])
        return ([node], inits, [helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])],
                [helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n])])

    def reference(outputs):
        ref = (a[:4].astype(np.int64) - 128) @ b_s8.astype(np.int64)
        return rel_err(outputs["Y"][:4], ref.astype(np.float64))

    case = Case("MatMulInteger", None, m, n, k, "hot", 1, b_s8.nbytes, make_graph, reference)
    case.feeds = {"A": a}
    case.out_specs = {"Y": ((m, n), np.int32)}
    case.layouts = ["u8 x s8"]
    return case


def dqmm_case(rng, m, n, k, b_s8, b_scale):
    x = rng.uniform(-1, 1, (m, k)).astype(np.float32)

    def make_graph(_):
        inits = [numpy_helper.from_array(b_s8, "B"), numpy_helper.from_array(b_scale, "b_scale")]
        node = helper.make_node("DynamicQuantizeMatMul", ["A", "B", "b_scale"], ["Y"], domain="com.microsoft")
        return ([node], inits, [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
                [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])])

    def reference(outputs):
        ref = x[: min(m, 4)].astype(np.float64) @ (b_s8.astype(np.float64) * b_scale)
        return rel_err(outputs["Y"][: min(m, 4)], ref)

    case = Case("DynamicQuantizeMatMul", None, m, n, k, "hot", 1, b_s8.nbytes + b_scale.nbytes, make_graph, reference)
    case.feeds = {"A": x}
    case.out_specs = {"Y": ((m, n), np.float32)}
    case.layouts = ["s8 per-column"]
    return case


def parse_accelbench(path):
    """accelbench CSV rows -> {(dtype, tokens, outputs, K, residency, threads): (µs, GFLOPS, status)}."""
    ours = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("workload") not in ("qgemv", "qgemm"):
                continue
            shape, _, residency = r["shape"].partition(":")
            mo, tokens, k = (int(v) for v in shape.lower().split("x"))
            gflops = float(r["median"]) if r.get("median") else float("nan")
            if r.get("unit", "GFLOPS") != "GFLOPS":
                continue
            us = 2.0 * mo * tokens * k / (gflops * 1e3) if gflops > 0 else float("nan")
            key = (r["dtype"], tokens, mo, k, residency or "hot", int(r["threads"]))
            ours[key] = (us, gflops, r.get("status", ""), r["shape"])
    return ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--k", type=int, default=4096)
    parser.add_argument("--n", type=int, default=4096, help="output features (accelbench's M)")
    parser.add_argument("--gemm-m", type=int, default=512, help="tokens of the GEMM cases")
    parser.add_argument("--cold-n", type=int, nargs="*", default=[4096, 14336], help="output features of the cold GEMVs (none: skip cold)")
    parser.add_argument("--cold-bits", type=int, nargs="*", default=[4, 8], choices=[4, 8])
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--min-calls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum sampling time per case")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="stop sampling after this even below --min-calls")
    parser.add_argument("--accelbench-csv", help="accelbench's CSV for the same shapes: print ours / ort")
    parser.add_argument("--csv", help="also write the ORT rows to this CSV file")
    args = parser.parse_args()
    if args.k % BLOCK or any(t < 1 for t in args.threads):
        parser.error(f"K must be a multiple of {BLOCK}, threads >= 1")
    if args.accelbench_csv and not os.path.exists(args.accelbench_csv):
        parser.error(f"--accelbench-csv {args.accelbench_csv}: no such file")

    ort.set_default_logger_severity(3)
    rng = np.random.default_rng(0x5EED)
    k, n, llc = args.k, args.n, llc_bytes()
    print(f"# onnxruntime {ort.__version__} (onnx {onnx.__version__}, numpy {np.__version__}), CPU EP, "
          f"LLC {llc / 2**20:.0f} MiB, load average {' '.join('%.2f' % v for v in os.getloadavg())}")

    w = rng.standard_normal((n, k), dtype=np.float32)
    nbits = {bits: quantize_nbits(w, bits) for bits in (4, 8)}
    s8_scale = (np.abs(w).max(axis=1) / 127.0).astype(np.float32)  # per output channel
    b_s8 = np.ascontiguousarray(np.clip(np.rint(w / s8_scale[:, None]), -127, 127).astype(np.int8).T)  # [K, N]
    del w

    cases = []
    for bits in (4, 8):
        cases.append(lambda bits=bits: nbits_case(rng, 1, n, k, bits, [nbits[bits]]))
    cases.append(lambda: dqmm_case(rng, 1, n, k, b_s8, s8_scale))
    for cold_n in args.cold_n:
        for bits in args.cold_bits:
            per_copy = cold_n * k * bits // 8 + cold_n * (k // BLOCK) * 4
            copies = max(1, math.ceil(4 * llc / per_copy))

            def cold(cold_n=cold_n, bits=bits, copies=copies):
                return nbits_case(rng, 1, cold_n, k, bits, [random_nbits(rng, cold_n, k, bits) for _ in range(copies)], "cold", copies)
            cases.append(cold)
    for bits in (4, 8):
        cases.append(lambda bits=bits: nbits_case(rng, args.gemm_m, n, k, bits, [nbits[bits]]))
    cases.append(lambda: matmulinteger_case(rng, args.gemm_m, n, k, b_s8))
    cases.append(lambda: dqmm_case(rng, args.gemm_m, n, k, b_s8, s8_scale))
    if not args.cold_n or not args.cold_bits:
        print("# cold GEMV skipped (--cold-n / --cold-bits empty)")

    header = ["op", "bits", "M", "N", "K", "residency", "threads", "median_us", "p5_us", "p95_us", "n",
              "gflops", "weight_gbs", "err", "layout"]
    print("%-22s %4s %4s %6s %5s %-9s %3s %11s %11s %11s %6s %9s %9s %8s" % (
        "op", "bits", "M", "N", "K", "weights", "T", "median µs", "p5 µs", "p95 µs", "n", "GFLOPS", "wt GB/s", "err"))
    rows = []
    for make in cases:
        case = make()
        for threads in args.threads:
            tag = "%-22s %4s %4d %6d %5d %-9s %3d" % (case.label, case.bits or "-", case.m, case.n, case.k,
                                                      case.residency + (f"x{case.copies}" if case.copies > 1 else ""), threads)
            try:
                session = session_for(case, threads, case.layouts)
                times, outputs = measure(session, case.feeds, case.out_specs, args)
                err = case.reference(outputs)
                del session
            except Exception as e:
                print(f"{tag} FAILED: {str(e).strip()[:400]}")
                continue
            per = times / case.copies  # seconds per GEMV/GEMM
            med, p5, p95 = float(np.median(per)), float(np.percentile(per, 5)), float(np.percentile(per, 95))
            flops = 2.0 * case.m * case.n * case.k
            unit_note = " GOPS" if case.op == "MatMulInteger" else ""
            flag = "  <- WRONG?" if err > 0.05 else ""
            print("%s %11.1f %11.1f %11.1f %6d %9.1f %9.1f %8.1e%s%s" % (
                tag, med * 1e6, p5 * 1e6, p95 * 1e6, len(times), flops / med / 1e9, case.weight_bytes / med / 1e9, err, unit_note, flag))
            sys.stdout.flush()
            rows.append(dict(op=case.label, bits=case.bits or "", M=case.m, N=case.n, K=case.k, residency=case.residency,
                             threads=threads, median_us=med * 1e6, p5_us=p5 * 1e6, p95_us=p95 * 1e6, n=len(times),
                             gflops=flops / med / 1e9, weight_gbs=case.weight_bytes / med / 1e9, err=err, layout=case.layout,
                             copies=case.copies))
        del case
    layouts = sorted({r["layout"] for r in rows if r["op"].startswith("MatMulNBits")})
    if layouts:
        print(f"# MatMulNBits scales layout that loaded: {', '.join(layouts)}")
    print(f"# load average at the end {' '.join('%.2f' % v for v in os.getloadavg())}")

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=header + ["copies"])
            writer.writeheader()
            writer.writerows(rows)

    if not args.accelbench_csv:
        return
    ours = parse_accelbench(args.accelbench_csv)
    print(f"\n== accelbench ({args.accelbench_csv}) vs onnxruntime: speedup = ort µs / our µs (>1: we are faster)")
    print("%-5s %-17s %3s %10s %8s   %-22s %10s %8s %8s" % ("dtype", "shape", "T", "our µs", "GFLOPS", "ort peer", "ort µs", "GFLOPS", "speedup"))
    matched = set()
    for key in sorted(ours, key=lambda q: (q[0], q[1], q[2], q[4], q[5])):
        dtype, tokens, mo, kk, residency, threads = key
        us, gflops, status, shape = ours[key]
        peers = [r for r in rows if PEER_DTYPE.get(r["op"]) == dtype and r["M"] == tokens and r["N"] == mo
                 and r["K"] == kk and r["residency"] == residency and r["threads"] == threads]
        if status != "passed" or not math.isfinite(us):
            print("%-5s %-17s %3d  ours %s" % (dtype, shape, threads, status or "missing"))
            continue
        if not peers:
            print("%-5s %-17s %3d %10.1f %8.1f   (no ORT peer measured)" % (dtype, shape, threads, us, gflops))
        for r in peers:
            matched.add(id(r))
            print("%-5s %-17s %3d %10.1f %8.1f   %-22s %10.1f %8.1f %7.2fx" % (
                dtype, shape, threads, us, gflops, r["op"], r["median_us"], r["gflops"], r["median_us"] / us))
    for r in rows:
        if id(r) not in matched:
            print("      (ORT %s M=%d N=%d K=%d %s T=%d has no accelbench row)" % (r["op"], r["M"], r["N"], r["K"], r["residency"], r["threads"]))


if __name__ == "__main__":
    main()
