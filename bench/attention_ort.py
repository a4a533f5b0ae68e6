#!/usr/bin/env python3
"""onnxruntime's fp32 attention (com.microsoft.MultiHeadAttention, CPU/MLAS) on one shape, as a peer
figure for accelbench's attention workload.

Prints one CSV line per thread count: peer,threads,heads,seq,head_dim,ms_median,gflops
(FLOPs = 4*h*q*kv*d, non-causal, softmax not counted: the same rule as accelbench).
Needs `pip install onnxruntime onnx numpy` (bench/attention.sh makes a venv for it).
"""
import argparse
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def build_model(heads: int, seq: int, dim: int) -> bytes:
    hidden = heads * dim
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, seq, hidden]) for n in ("q", "k", "v")]
    output = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, seq, hidden])
    node = helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["o"], domain="com.microsoft", num_heads=heads)
    graph = helper.make_graph([node], "mha", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per thread count")
    args = parser.parse_args()
    model = build_model(args.heads, args.seq, args.dim)
    rng = np.random.default_rng(0x5EED)
    feeds = {n: rng.uniform(-1, 1, (1, args.seq, args.heads * args.dim)).astype(np.float32) for n in ("q", "k", "v")}
    flops = 4.0 * args.heads * args.seq * args.seq * args.dim
    print("peer,threads,heads,seq,head_dim,ms_median,gflops")
    for threads in args.threads:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        for _ in range(2):
            session.run(None, feeds)
        times = []
        start = time.perf_counter()
        while len(times) < 3 or time.perf_counter() - start < args.seconds:
            t0 = time.perf_counter()
            session.run(None, feeds)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        print(f"onnxruntime-{ort.__version__}-mha,{threads},{args.heads},{args.seq},{args.dim},{median * 1e3:.2f},{flops / median / 1e9:.1f}")


if __name__ == "__main__":
    main()
