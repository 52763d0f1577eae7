#!/usr/bin/env python3
"""Counts the ATen ops one MoE layer forward (and forward+backward) runs, per MoE implementation, with torch.profiler;
on CUDA (--device cuda) also the CUDA kernels it launches and their GPU time, beside a dense MLP's.

The kit's C# MoeBlock (its loop and its grouped dispatch, src/MoeLpr/Model/GroupedExperts.cs) calls the same ATen ops as moe_lpr_bench.py's
MoeBlock implementations of the same names, so these counts stand for them too. "Kernel ops" are the ATen calls that
run a kernel themselves: composite ops (aten::linear, aten::to, aten::zeros, …) are counted through the kernels they
call, and ops that only make a view, allocate or dispatch are left out. Counted on the CPU, this approximates the GPU's
kernel launches: a few ops (sort, bincount, topk) run different internal kernels per device. Host syncs are not
visible on a CPU profile (only explicit .item() calls are): they are listed per implementation from the code in
benchmarks/README.md ("The MoE layer implementation").

Each pass is profiled after one pass that is not, so that its gradients add to existing ones, as in every training step
after the first (the kit zeroes gradients in place); on the CPU the kernel-op count of a forward+backward pass then
varies by up to 2 between runs (PyTorch 1.13), the ATen calls do not. On CUDA the kernel counts are the launches
themselves (a sort's digit passes included), and the time of each kernel is the GPU's, so a layer that waits for the
host shows many short kernels and one that is compute-bound shows where its GPU time goes (grouped GEMMs against the
dense GEMMs, gathers, the sort).

    python3 benchmarks/pytorch/count_moe_ops.py [--size full|paper|quick] [--impls loop,padded-bmm] [--json FILE]
                                                [--device cpu|cuda] [--dtype float32|bfloat16]
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


def profiled(run, device):
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    run()  # warm-up: cuBLAS handles, allocator blocks, TorchScript/autotuning
    if device.type == "cuda":
        torch.cuda.synchronize()
    with profile(activities=activities) as prof:
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
    return prof


def cuda_kernels(prof):
    """The CUDA kernels the profiled run launched: count, total GPU milliseconds, and the five that took longest, by
    full name: two CUTLASS kernels can share their first 80 characters."""
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    time_of = collections.Counter()
    for e in kernels:
        time_of[e.name] += e.device_time_total if hasattr(e, "device_time_total") else e.cuda_time_total
    return {"cuda_kernels": len(kernels), "cuda_ms": sum(time_of.values()) / 1000,
            "top_kernels_ms": {name: round(us / 1000, 4) for name, us in time_of.most_common(5)}}


def summarize(prof, device):
    calls = sum(1 for e in prof.events() if is_op(e))
    kernels = collections.Counter(e.name for e in kernel_ops(prof))
    result = {"aten_calls": calls, "kernel_ops": sum(kernels.values()),
              "item_syncs": kernels.get("aten::_local_scalar_dense", 0), "by_name": dict(sorted(kernels.items()))}
    return {**result, **cuda_kernels(prof)} if device.type == "cuda" else result


def forward_and_backward(module, x, g):
    inp = x.detach().requires_grad_(True)
    y = module(inp)
    torch.autograd.backward([y[0] if isinstance(y, tuple) else y], [g])


def count(block, x, g, backward):
    def run():
        if backward:
            forward_and_backward(block, x, g)
        else:
            with torch.no_grad():
                block(x)
    return summarize(profiled(run, x.device), x.device)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="full", choices=sorted(b.SIZES))
    ap.add_argument("--impls", default="loop,padded-bmm" + (",grouped-mm" if hasattr(torch, "_grouped_mm") else ""))
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--json", default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = ap.parse_args()
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    c, moe = b.SIZES[args.size]["model"], b.SIZES[args.size]["moe"]
    torch.manual_seed(7)
    dense = b.LlamaMLP(c["hidden_size"], c["intermediate_size"], dtype).to(device)
    out = {"torch": torch.__version__, "size": args.size, "tokens": args.tokens, "experts": moe["num_experts"],
           "topk": moe["topk"], "device": str(device), "dtype": args.dtype, "counts": {}}
    x = torch.randn(args.tokens // 64, 64, c["hidden_size"]).to(device, dtype)
    g = torch.randn_like(x)
    on_cuda = device.type == "cuda"
    print(f"PyTorch {torch.__version__}, {args.size}: {moe['num_experts']} experts top-{moe['topk']}, "
          f"{args.tokens} tokens, {args.dtype} on {device}")
    cuda_header = " CUDA kernels | GPU ms | longest kernels (ms) |" if on_cuda else ""
    print("| implementation | pass | ATen calls (all levels) | kernel ops | .item() |" + cuda_header)
    print("|---|---|---:|---:|---:|" + ("---:|---:|---|" if on_cuda else ""))

    def row(impl, label, r):
        cuda = (f" {r['cuda_kernels']} | {r['cuda_ms']:.3f} | "
                + ", ".join(f"{name[:80]} {ms}" for name, ms in r["top_kernels_ms"].items()) + " |") if on_cuda else ""
        print(f"| {impl} | {label} | {r['aten_calls']} | {r['kernel_ops']} | {r['item_syncs']} |" + cuda)

    for impl in args.impls.split(","):
        block = b.MoeBlock(dense, [copy.deepcopy(dense) for _ in range(moe["num_experts"] - 1)], moe["topk"], impl)
        torch.nn.init.xavier_normal_(block.moe_router_embedding.weight)
        for mode in ("forward", "stage1"):
            for name, p in block.named_parameters():
                p.requires_grad_("moe_" in name)
            r = count(block, x, g, backward=mode != "forward")
            out["counts"][f"{impl}/{mode}"] = r
            row(impl, "forward (no_grad)" if mode == "forward" else "forward+backward, stage 1", r)
    for p in dense.parameters():
        p.requires_grad_(False)
    dense_counts = {}
    for mode in ("forward", "backward"):
        def run():
            if mode == "forward":
                with torch.no_grad():
                    dense(x)
            else:
                forward_and_backward(dense, x, g)
        dense_counts[mode] = summarize(profiled(run, device), device)
    out["dense_mlp"] = dense_counts
    row("dense MLP", "forward", dense_counts["forward"])
    row("dense MLP", "forward+backward (frozen)", dense_counts["backward"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
