#!/usr/bin/env python3
"""Checks of moe_lpr_bench.py's model (seconds on a CPU): run before trusting its numbers.

1. Upcycling with top-2 computes the dense model's function (the method's invariant), float64.
2. The batched MoE forms (padded-bmm; grouped-mm where torch._grouped_mm exists) give the kit's loop form's output
   and every parameter's gradient, float32 and float64 (float32 only for torch._grouped_mm itself, which takes no
   float64), for K = 1, 2, 3; frozen expert 0 gets no gradient; frozen experts read from the shared stacks in place
   give the loop's output after a training step changed them.
3. A stage-1 and a stage-2 step leave every frozen parameter without a gradient.
4. The kit's rotary (roll and a signed sin table) and RMSNorm (rms_norm, then the weight) give HF's forms bit for bit,
   output and gradients, float32 and bfloat16 (on the CPU; PyTorch without rms_norm runs HF's ops for it anyway).
"""
import copy
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import moe_lpr_bench as b  # noqa: E402


def check_upcycling():
    c = b.llama(64, 176, 2, 4, 256)
    torch.manual_seed(0)
    model = b.LlamaForCausalLM(c, torch.float64)
    ids = torch.randint(0, 256, (2, 16))
    dense = model(ids)[0]
    b.upcycle(model, b.moe_config(4, 2), seed=3, impl="loop")
    moe = model(ids)[0]
    diff = (dense - moe).abs().max().item()
    print(f"upcycled top-2 vs dense logits, float64: max |diff| {diff:.2e}")
    assert diff < 1e-10


def block_pair(n, k, dtype, impl):
    torch.manual_seed(1)
    dense = b.LlamaMLP(32, 48, dtype)
    experts = [b.LlamaMLP(32, 48, dtype) for _ in range(n - 1)]  # distinct weights: a wrong pairing would show
    ref = b.MoeBlock(dense, experts, k, "loop")
    torch.nn.init.normal_(ref.moe_router_embedding.weight)
    other = copy.deepcopy(ref)
    other.impl = impl
    other.share_expert_storage()  # deepcopy gives every parameter its own storage
    for blk in (ref, other):
        for name, p in blk.named_parameters():
            p.requires_grad_("moe_" in name)  # stage 1: expert 0 frozen
    return ref, other


FLOAT32_AND_64 = ((torch.float32, 1e-5), (torch.float64, 1e-12))


def check_batched(impl, dtypes=FLOAT32_AND_64):
    for dtype, tol in dtypes:
        for n, k in ((4, 1), (4, 2), (6, 2), (6, 3)):
            ref, other = block_pair(n, k, dtype, impl)
            x = torch.randn(3, 40, 32, dtype=dtype)
            g = torch.randn(3, 40, 32, dtype=dtype)
            outs = []
            for blk in (ref, other):
                xi = x.clone().requires_grad_(True)
                y, logits = blk(xi)
                torch.autograd.backward([y], [g])
                outs.append((y.detach(), xi.grad, {nm: p.grad for nm, p in blk.named_parameters()}))
            (y0, dx0, g0), (y1, dx1, g1) = outs
            diffs = {"output": (y0 - y1).abs().max().item(), "input grad": (dx0 - dx1).abs().max().item()}
            for nm in g0:
                assert (g0[nm] is None) == (g1[nm] is None), f"{nm}: gradient presence differs"
                if g0[nm] is not None:
                    diffs[nm] = (g0[nm] - g1[nm]).abs().max().item()
            assert g1["base_layer.gate_proj.weight"] is None, "frozen expert 0 got a gradient"
            m = max(diffs.values())
            print(f"{impl} vs loop, {str(dtype)[6:]}, N={n} K={k}: max |diff| output {diffs['output']:.1e}, "
                  f"input grad {diffs['input grad']:.1e}, all parameter grads {max(v for kk, v in diffs.items() if '.' in kk):.1e}")
            assert m < tol, diffs


def check_frozen_experts_in_place(impl):
    """Frozen experts are read from the shared stacks in place: after a stage-1 SGD step on the new experts, the
    stage-2 output (experts frozen) still equals the loop's, which reads the parameters themselves."""
    ref, other = block_pair(4, 2, torch.float32, impl)
    x = torch.randn(3, 40, 32)
    optimizer = torch.optim.SGD([p for p in other.parameters() if p.requires_grad], lr=0.5)
    other(x)[0].square().sum().backward()
    optimizer.step()
    ref.load_state_dict(other.state_dict())
    for blk in (ref, other):
        for name, p in blk.named_parameters():
            p.requires_grad_("moe_router" in name)  # stage 2
    diff = (ref(x)[0] - other(x)[0]).abs().max().item()
    print(f"{impl}, experts frozen after a stage-1 step, read in place vs loop: max |diff| output {diff:.1e}")
    assert diff < 1e-5, diff


def check_frozen():
    c = b.llama(64, 176, 2, 4, 256)
    torch.manual_seed(0)
    model = b.LlamaForCausalLM(c, torch.float32)
    b.upcycle(model, b.moe_config(4, 2), seed=3, impl="loop")
    ids = torch.randint(0, 256, (2, 16))
    old = torch.zeros(2, 16, dtype=torch.bool)
    old[0] = True
    for stage in (1, 2):
        model.zero_grad(set_to_none=True)
        for name, p in model.named_parameters():
            p.requires_grad_(b.is_trainable(stage, name))
        b.stage_loss(stage, b.moe_config(4, 2), model(ids, ids), old).backward()
        frozen = sum(1 for p in model.parameters() if not p.requires_grad and p.grad is not None)
        trained = sum(1 for p in model.parameters() if p.requires_grad and p.grad is not None)
        print(f"stage {stage}: {trained} trainable parameters got gradients, {frozen} frozen did")
        assert frozen == 0 and trained > 0


def check_hf_forms():
    for dtype in (torch.float32, torch.bfloat16):
        torch.manual_seed(5)
        x = torch.randn(2, 3, 5, 8).to(dtype)
        g = torch.randn(2, 3, 5, 8).to(dtype)
        cos, signed_sin = b.rotary_tables(8, 10000.0, 5, "cpu", dtype)
        sin = torch.cat([-signed_sin[..., :4], signed_sin[..., 4:]], dim=-1)  # HF's table (negation is exact)
        norm = b.RMSNorm(8, 1e-6, dtype)
        with torch.no_grad():
            norm.weight.copy_(torch.randn(8))

        def hf(xi):
            rotated = xi * cos + torch.cat([-xi[..., 4:], xi[..., :4]], dim=-1) * sin
            xf = rotated.float()
            return norm.weight * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)).to(dtype)

        results = []
        for f in (lambda xi: norm(b.apply_rotary(xi, cos, signed_sin)), hf):
            xi = x.clone().requires_grad_(True)
            norm.weight.grad = None
            y = f(xi)
            y.backward(g)
            results.append((y.detach(), xi.grad, norm.weight.grad))
        same = all(torch.equal(u, v) for u, v in zip(*results))
        print(f"rotary and RMSNorm vs HF's forms, {str(dtype)[6:]}: output and gradients bit for bit {same}")
        assert same


def reference_grouped_mm(a, b, offs):
    """torch._grouped_mm with group ends offs, as libtorch's CPU fallback computes it (one mm per group), for PyTorch
    builds without it: a 2-d a and a 3-d b (groups along a's rows), or a 2-d a and a 2-d b (groups along the shared
    dimension: a's columns, b's rows). The grouped-mm form's autograd plumbing is then still checked."""
    starts = [0] + offs[:-1].tolist()
    groups = list(zip(starts, offs.tolist()))
    if b.dim() == 3:
        return torch.cat([a[s:e] @ b[i] for i, (s, e) in enumerate(groups)])
    return torch.stack([a[:, s:e] @ b[s:e] for s, e in groups])


if __name__ == "__main__":
    check_upcycling()
    check_batched("padded-bmm")
    check_frozen_experts_in_place("padded-bmm")
    if hasattr(torch, "_grouped_mm"):
        check_batched("grouped-mm", FLOAT32_AND_64[:1])  # the op takes float32, bfloat16 and float16 only
    else:
        print(f"grouped-mm: torch._grouped_mm missing in PyTorch {torch.__version__}: checked with a reference one")
        torch._grouped_mm = reference_grouped_mm
        check_batched("grouped-mm")
    check_frozen_experts_in_place("grouped-mm")
    check_frozen()
    check_hf_forms()
    print("all checks passed")
