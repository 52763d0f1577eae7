"""Prints two training runs' metrics.jsonl side by side (the kit's train, as issued and replayed from CUDA graphs):
each logged step's loss and gradient norm, and the largest relative difference of each.

    python3 benchmarks/cuda/compare-metrics.py RUN_A/metrics.jsonl RUN_B/metrics.jsonl
"""
import json
import sys


def read(path):
    return [json.loads(line) for line in open(path) if line.strip()]


a, b = read(sys.argv[1]), read(sys.argv[2])
if [m["step"] for m in a] != [m["step"] for m in b]:
    sys.exit(f"the runs logged different steps: {len(a)} and {len(b)} lines")
keys = [k for k in ("loss", "lm_loss", "aux_loss", "lpr_loss", "grad_norm") if any(k in m for m in a + b)]
# lpr_loss is absent from a line whose window held no old-language token; both runs must agree on which.
for x, y in zip(a, b):
    for k in keys:
        if (k in x) != (k in y):
            sys.exit(f"step {x['step']}: {k} is logged by one run only")


def cell(m, k):
    return f"{m[k]:12.6f}" if k in m else f"{'-':>12}"


print("step " + " ".join(f"{k + ' A':>12} {k + ' B':>12}" for k in keys))
for x, y in zip(a, b):
    print(f"{x['step']:4d} " + " ".join(f"{cell(x, k)} {cell(y, k)}" for k in keys))
for k in keys:
    largest = max(abs(x[k] - y[k]) / max(abs(x[k]), 1e-12) for x, y in zip(a, b) if k in x)
    print(f"{k}: largest relative difference {largest:.2e}")
