#!/usr/bin/env python3
"""llama.cpp (through llama-cpp-python) on a GGUF file: pp512 and tg128 tokens/s, as peer figures for
accelbench's `llm` workload (`accelbench run --weights FILE --shape gguf:pp512 --shape gguf:tg128`).

  pp512: after reset() (KV cache cleared), one eval() of 512 prompt tokens in one batch
         (n_batch = n_ubatch = 512): 512 / seconds.
  tg128: after reset(), 128 eval() calls of one token each, from an empty context (as llama-bench's
         tg128): 128 / seconds.
Each is one warm-up run then the median of --reps runs (min and max printed too). Tokens are fixed
ids >= 3 (no BOS; the vocabulary of accelbench's synthetic files is dummy). bench/llm.sh divides
accelbench's figures for the same files by these (ratio ours / llama.cpp, >1: accelbench faster).
Needs `pip install llama-cpp-python` (bench/llm.sh makes a venv for it).
"""
import argparse
import csv
import os
import statistics
import sys
import time

from llama_cpp import Llama
import llama_cpp


def measure(llm, tokens, per_token: bool) -> float:
    llm.reset()
    t0 = time.perf_counter()
    if per_token:
        for t in tokens:
            llm.eval([t])
    else:
        llm.eval(tokens)
    return len(tokens) / (time.perf_counter() - t0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, action="append", help="GGUF file (repeatable)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--pp", type=int, default=512)
    p.add_argument("--tg", type=int, default=128)
    p.add_argument("--csv", help="write the figures here")
    args = p.parse_args()
    print("llama-cpp-python %s; load average %s" % (llama_cpp.__version__, " ".join("%.2f" % x for x in os.getloadavg())))
    try:
        print("llama.cpp system info:", llama_cpp.llama_print_system_info().decode().strip())
    except Exception:
        pass
    rows = []
    print("%-28s %3s %-6s %10s %10s %10s" % ("model", "T", "test", "tok/s", "min", "max"))
    for path in args.model:
        for t in args.threads:
            llm = Llama(model_path=path, n_ctx=max(1024, args.pp + 16), n_threads=t, n_threads_batch=t,
                        n_batch=args.pp, n_ubatch=args.pp, verbose=False)
            prompt = [3 + (i * 7919) % (llm.n_vocab() - 3) for i in range(args.pp)]
            for name, toks, per_token in ((f"pp{args.pp}", prompt, False), (f"tg{args.tg}", prompt[: args.tg], True)):
                measure(llm, toks if not per_token else toks[:16], per_token)  # warm-up
                rates = [measure(llm, toks, per_token) for _ in range(args.reps)]
                med = statistics.median(rates)
                print("%-28s %3d %-6s %10.2f %10.2f %10.2f" % (os.path.basename(path), t, name, med, min(rates), max(rates)), flush=True)
                rows.append({"model": path, "threads": t, "test": name, "tokens_per_s": "%.3f" % med,
                             "min": "%.3f" % min(rates), "max": "%.3f" % max(rates)})
            del llm
    print("load average at end %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
