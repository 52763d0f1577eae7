#!/usr/bin/env python3
"""Does libtorch's TorchScript executor fuse the kit's element-wise chains on this device, and what does it save?

The kit runs TorchScript through TorchSharp (`torch.jit.compile`, then `CompilationUnit.invoke`), which calls the same
GraphExecutor a scripted Python function does: on CUDA its profiling executor may merge element-wise ops into one
NNC (TensorExpr) kernel and differentiate the merged group itself. TorchSharp binds no CUDA graphs and no
torch.compile, so this is the one route to fused kernels a C# caller has. This probe measures it on the chains a
decoder layer runs, at the benchmark size (8 × 512 tokens, hidden 512, intermediate 1408, 8 heads of 64), forward and
backward as in a training step, eager against scripted:

  - the CUDA kernels one pass launches (torch.profiler), and the host time of one pass (wall time of many passes
    with one synchronize at the end; at this size the GPU waits for the host, so that is the host's cost);
  - whether the executed graph holds fusion groups, and which;
  - the largest difference of the output and of each input gradient, scripted against eager.

    python3 benchmarks/pytorch/probe_torchscript_fusion.py [--device cuda] [--dtype bfloat16] [--json FILE]
"""
import argparse
import json
import time

import torch
from torch.profiler import ProfilerActivity, profile


def rms_norm_hf(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """HF LlamaRMSNorm: normalise in float32, cast back, then scale."""
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-6)
    return weight * x32.to(x.dtype)


def residual_rms_norm(h: torch.Tensor, attended: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The residual add, then the norm of the sum, added back (a chain as long as a layer's)."""
    s = h + attended
    return s + rms_norm_hf(s, weight)


def swiglu_activation(g: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.silu(g) * u


def rotary(q: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
    """The kit's rotary form: q·cos + roll(q, d/2)·signed_sin."""
    return q * cos + torch.roll(q, q.size(-1) // 2, -1) * signed_sin


def rotary_halves(q: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """HF's rotate_half form, whose slices and negation a fuser can inline where it cannot inline a roll."""
    half = q.size(-1) // 2
    rotated = torch.cat((-q[..., half:], q[..., :half]), -1)
    return q * cos + rotated * sin


def cases(device, dtype):
    tokens, hidden, inter, heads, head_dim, batch, seq = 4096, 512, 1408, 8, 64, 8, 512
    g = torch.Generator(device="cpu").manual_seed(0)

    def t(*shape, grad=True, scale=1.0):
        x = (torch.randn(*shape, generator=g) * scale).to(device=device, dtype=dtype)
        return x.requires_grad_(grad)
    angles = torch.arange(seq).unsqueeze(1) * torch.rand(head_dim, generator=g).unsqueeze(0)
    cos, sin = angles.cos().to(device, dtype), angles.sin().to(device, dtype)
    signed_sin = torch.cat((-sin[:, :head_dim // 2], sin[:, head_dim // 2:]), -1)
    q = t(batch, heads, seq, head_dim)
    return {
        "rms_norm": (rms_norm_hf, [t(tokens, hidden), t(hidden)]),
        "residual_rms_norm": (residual_rms_norm, [t(tokens, hidden), t(tokens, hidden), t(hidden)]),
        "swiglu_activation": (swiglu_activation, [t(tokens, inter), t(tokens, inter)]),
        "rotary_roll": (rotary, [q, cos, signed_sin]),
        "rotary_halves": (rotary_halves, [q, cos, sin]),
    }


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def one_pass(fn, inputs, out_grad):
    for x in inputs:
        x.grad = None
    y = fn(*inputs)
    y.backward(out_grad)
    return y


def host_us(fn, inputs, out_grad, device, passes):
    sync(device)
    start = time.perf_counter()
    for _ in range(passes):
        one_pass(fn, inputs, out_grad)
    sync(device)
    return (time.perf_counter() - start) / passes * 1e6


def kernels(fn, inputs, out_grad, device):
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        one_pass(fn, inputs, out_grad)
        sync(device)
    if device.type == "cuda":
        names = [e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    else:  # a CPU profile has no kernels: count the ATen calls that are not views
        names = [e.name for e in prof.events() if e.name.startswith("aten::") and not e.cpu_children]
    return len(names), sorted(set(n[:60] for n in names))


def fusion_groups(graph_text):
    kinds = ["prim::TensorExprGroup", "prim::CudaFusionGroup", "prim::FusionGroup", "prim::DifferentiableGraph",
             "prim::TensorExprDynamicGroup"]
    return {k: graph_text.count(k) for k in kinds if k in graph_text}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", default="bfloat16", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--passes", type=int, default=200)
    p.add_argument("--json")
    a = p.parse_args()
    device, dtype = torch.device(a.device), getattr(torch, a.dtype)
    settings = {name: getattr(torch._C, name)() for name in
                ["_jit_texpr_fuser_enabled", "_jit_can_fuse_on_gpu", "_jit_can_fuse_on_cpu",
                 "_jit_texpr_reductions_enabled", "_get_graph_executor_optimize"] if hasattr(torch._C, name)}
    card = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} on {device} ({card}), {a.dtype}; executor settings {settings}")
    report = {"torch": torch.__version__, "device": str(device), "dtype": a.dtype, "settings": settings, "cases": {}}
    for name, (fn, inputs) in cases(device, dtype).items():
        scripted = torch.jit.script(fn)
        out_grad = torch.randn_like(fn(*inputs))
        for _ in range(5):  # the profiling executor profiles, then optimises (and fuses) the graph
            one_pass(scripted, inputs, out_grad)
            one_pass(fn, inputs, out_grad)
        graph = str(torch.jit.last_executed_optimized_graph()) if hasattr(torch.jit, "last_executed_optimized_graph") \
            else ""
        y_eager = one_pass(fn, inputs, out_grad).detach()
        g_eager = [x.grad.clone() for x in inputs if x.requires_grad]
        y_script = one_pass(scripted, inputs, out_grad).detach()
        g_script = [x.grad.clone() for x in inputs if x.requires_grad]
        diffs = [float((y_script.float() - y_eager.float()).abs().max())] + \
                [float((s.float() - e.float()).abs().max()) for s, e in zip(g_script, g_eager)]
        row = {"fusion_groups": fusion_groups(graph), "max_abs_diff_output_then_grads": diffs}
        for label, f in [("eager", fn), ("script", scripted)]:
            count, names = kernels(f, inputs, out_grad, device)
            row[label] = {"kernels": count, "host_us": round(host_us(f, inputs, out_grad, device, a.passes), 1),
                          "kernel_names": names}
        report["cases"][name] = row
        print(f"{name:18} eager {row['eager']['kernels']:3} kernels {row['eager']['host_us']:8.1f} µs | script "
              f"{row['script']['kernels']:3} kernels {row['script']['host_us']:8.1f} µs | groups "
              f"{row['fusion_groups']} | max diff {['%.3g' % d for d in diffs]}")
        if device.type == "cuda":
            print("   script kernels:", row["script"]["kernel_names"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
