#!/usr/bin/env python3
"""Counts the ATen ops one MoE layer forward (and forward+backward) runs, per MoE implementation, with torch.profiler.

The kit's C# MoeBlock (its loop and its grouped dispatch, src/MoeLpr/Model/GroupedExperts.cs) calls the same ATen ops as moe_lpr_bench.py's
MoeBlock implementations of the same names, so these counts stand for them too. "Kernel ops" are the ATen calls that
run a kernel themselves: composite ops (aten::linear, aten::to, aten::zeros, …) are counted through the kernels they
call, and ops that only make a view, allocate or dispatch are left out. Counted on the CPU, this approximates the GPU's
kernel launches: a few ops (sort, bincount, topk) run different internal kernels per device. Host syncs are not
visible on a CPU profile (only explicit .item() calls are): they are listed per implementation from the code in
benchmarks/README.md ("The MoE layer implementation").

    python3 benchmarks/pytorch/count_moe_ops.py [--size full|paper|quick] [--impls loop,padded-bmm] [--json FILE]
"""
import argparse
import collections
import copy
import json
import sys

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import moe_lpr_bench as b  # noqa: E402

NO_KERNEL = {
    "aten::view", "aten::reshape", "aten::_reshape_alias", "aten::transpose", "aten::t", "aten::select", "aten::slice",
    "aten::narrow", "aten::expand", "aten::as_strided", "aten::unsqueeze", "aten::squeeze", "aten::detach", "aten::alias",
    "aten::permute", "aten::unflatten", "aten::flatten", "aten::empty", "aten::empty_like", "aten::empty_strided",
    "aten::resize_", "aten::lift_fresh", "aten::result_type", "aten::_unsafe_view", "aten::split", "aten::unbind",
    "aten::chunk", "detach", "aten::is_nonzero", "aten::resolve_conj", "aten::resolve_neg", "aten::contiguous",
    "aten::is_same_size", "aten::new_empty", "aten::new_empty_strided", "aten::zeros", "aten::zeros_like", "aten::ones_like",
    "aten::to", "aten::_to_copy", "aten::zero_", "aten::linear", "aten::matmul", "aten::clone",
}


def is_op(e):
    return e.name.startswith("aten::") or e.name == "detach"


def kernel_ops(prof):
    """ATen ops that run a kernel themselves: not a view/allocation/dispatch-only op, and no such op below them."""
    def below(e):
        return any((is_op(c) and c.name not in NO_KERNEL) or below(c) for c in e.cpu_children)
    return [e for e in prof.events() if is_op(e) and e.name not in NO_KERNEL and not below(e)]


def count(block, x, g, backward):
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        if backward:
            inp = x.detach().requires_grad_(True)
            y, _ = block(inp)
            torch.autograd.backward([y], [g])
        else:
            with torch.no_grad():
                block(x)
    calls = sum(1 for e in prof.events() if is_op(e))
    kernels = collections.Counter(e.name for e in kernel_ops(prof))
    return {"aten_calls": calls, "kernel_ops": sum(kernels.values()), "item_syncs": kernels.get("aten::_local_scalar_dense", 0),
            "by_name": dict(sorted(kernels.items()))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="full", choices=sorted(b.SIZES))
    ap.add_argument("--impls", default="loop,padded-bmm" + (",grouped-mm" if hasattr(torch, "_grouped_mm") else ""))
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    c, moe = b.SIZES[args.size]["model"], b.SIZES[args.size]["moe"]
    torch.manual_seed(7)
    dense = b.LlamaMLP(c["hidden_size"], c["intermediate_size"], torch.float32)
    out = {"torch": torch.__version__, "size": args.size, "tokens": args.tokens, "experts": moe["num_experts"], "topk": moe["topk"], "counts": {}}
    x = torch.randn(args.tokens // 64, 64, c["hidden_size"])
    g = torch.randn_like(x)
    print(f"PyTorch {torch.__version__}, {args.size}: {moe['num_experts']} experts top-{moe['topk']}, {args.tokens} tokens")
    print("| implementation | pass | ATen calls (all levels) | kernel ops | .item() |")
    print("|---|---|---:|---:|---:|")
    for impl in args.impls.split(","):
        block = b.MoeBlock(dense, [copy.deepcopy(dense) for _ in range(moe["num_experts"] - 1)], moe["topk"], impl)
        torch.nn.init.xavier_normal_(block.moe_router_embedding.weight)
        for mode in ("forward", "stage1"):
            for name, p in block.named_parameters():
                p.requires_grad_("moe_" in name)
            block(x)  # warm-up
            r = count(block, x, g, backward=mode != "forward")
            out["counts"][f"{impl}/{mode}"] = r
            label = "forward (no_grad)" if mode == "forward" else "forward+backward, stage 1"
            print(f"| {impl} | {label} | {r['aten_calls']} | {r['kernel_ops']} | {r['item_syncs']} |")
    dense_counts = {}
    for mode in ("forward", "backward"):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            if mode == "forward":
                with torch.no_grad():
                    dense(x)
            else:
                for p in dense.parameters():
                    p.requires_grad_(False)
                inp = x.detach().requires_grad_(True)
                torch.autograd.backward([dense(inp)], [g])
        dense_counts[mode] = len(kernel_ops(prof))
    out["dense_mlp_kernel_ops"] = dense_counts
    print(f"| dense MLP | forward / forward+backward (frozen) | | {dense_counts['forward']} / {dense_counts['backward']} | |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
