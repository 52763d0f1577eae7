#!/usr/bin/env python3
"""PyTorch peer of the kit's benchmark (benchmarks/MoeLpr.Benchmarks).

Same configurations, same model (LLaMA with RMSNorm in float32, rotary half-split, causal attention softmaxed in
float32, SwiGLU MLP), same MoE-LPR routing (p = softmax_fp32(W_r x) over all N experts, top-K, renormalised when
K > 1, experts summed in ascending expert order), same training steps (stage 1: routers + experts 1..N-1,
LM + 0.01 L_bal; stage 2: routers only, LM + 0.1 L_LPR with -log p0 on old-language tokens, half the rows old;
AdamW lr 1e-4 wd 0 over the trainable parameters only, through float32 masters where they are bfloat16, global-norm
clipping at 1) and the same FLOP conventions.
The JSON uses the C# benchmark's field names wherever a field means the same thing, so both reports sit side by
side (``--compare benchmark-cpu.json`` prints the table).

Runs eager and, where the installed PyTorch has it (2.x), ``torch.compile``; bfloat16 on CUDA, float32 on the CPU.

    python3 benchmarks/pytorch/moe_lpr_bench.py [--size quick|full|paper] [--device auto|cpu|cuda]
        [--sections matmul,moe-layer,throughput,host-overhead] [--modes eager,compile,eager-graphs] [--moe-impl loop|padded-bmm|grouped-mm]
        [--attention auto|math|sdpa] [--threads N] [--out DIR] [--tag NAME] [--compare KIT.json]

See benchmarks/pytorch/README.md.
"""
from __future__ import annotations

import argparse
import copy
import datetime as _dt
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------------------------------
# Configurations (BenchmarkModels.cs; "paper" is Qwen1.5-1.8B's MLP, issue 11)
# --------------------------------------------------------------------------------------------------------------------


def llama(hidden, intermediate, layers, heads, vocab):
    return {
        "model_type": "llama", "vocab_size": vocab, "hidden_size": hidden, "intermediate_size": intermediate,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": heads, "hidden_act": "silu",
        "max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "rope_theta": 10000, "tie_word_embeddings": False,
        "attention_bias": False, "torch_dtype": "float32",
    }


def moe_config(experts, topk):
    return {
        "peft_type": "MOE", "task_type": "CAUSAL_LM", "num_experts": experts, "topk": topk, "layers_to_transform": [],
        "init_moe_weights": True, "save_all_params": False, "aux_loss_coef": 0.01, "lpr_loss_coef": 0.1,
    }


SIZES = {
    # hidden 512, intermediate 1408, 4 layers, 8 heads, vocab 8192; batch 8 x seq 512 = 4,096 tokens; 4 experts top-2
    "full": dict(model=llama(512, 1408, 4, 8, 8192), moe=moe_config(4, 2), batch=8, seq_len=512),
    # the smoke size of `--quick`
    "quick": dict(model=llama(128, 352, 2, 4, 1024), moe=moe_config(4, 2), batch=4, seq_len=128),
    # Qwen1.5-1.8B's layer as in the paper: hidden 2048, intermediate 5504, 16 heads of 128, 6 experts top-2; two
    # layers, and the benchmark's vocabulary of 8192 (Qwen's 151,936 would make lm_head and the logits dominate)
    "paper": dict(model=llama(2048, 5504, 2, 16, 8192), moe=moe_config(6, 2), batch=8, seq_len=512),
}

# The kit's host-overhead section (HostOverhead.cs): a model whose kernels cost next to nothing, 300 steps a sample
HOST_OVERHEAD = dict(model=llama(32, 64, 4, 4, 64), moe=moe_config(4, 2), batch=2, seq_len=16, steps_per_sample=300)

FLOP_FORMULA = (
    "Multiply-add = 2 FLOPs; D = tokens per batch, B = batch, T = sequence length, L = layers, h = hidden, I = intermediate, V = vocab, "
    "N = experts, K = top-K. N_active = L·(4·h·h_attn + K·3·h·I + N·h) + h·V (dense: K = 1, no router term; embeddings are lookups). "
    "Attention A = L·4·B·T²·h_attn per forward (QKᵀ and AV over the full T×T, as implemented). "
    "Forward = 2·N_active·D + A. Training model FLOPs = 6·N_active·D + 3·A (the usual MFU convention). "
    "Training executed FLOPs ≈ 4·N_active·D + 2·N_trainable_active·D + 3·A (frozen weights need input gradients but no weight "
    "gradients; N_trainable_active = L·(N·h + K·3·h·I·(N−1)/N) in stage 1, assuming balanced routing, and L·N·h in stage 2). "
    "Fraction of peak = achieved FLOP/s ÷ the FLOP/s of square matmuls measured in the same run.")


def flop_counts(c, num_experts, topk, moe, batch, seq_len, trainable):
    """FlopCounts.For: returns (active, trainable_active, forward, training_model, training_executed)."""
    h, inter = c["hidden_size"], c["intermediate_size"]
    d = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"]
    attention_params = h * c["num_attention_heads"] * d * 2 + h * kv * d * 2
    expert_params = 3 * h * inter
    router_params = num_experts * h if moe else 0
    mlp_active = topk * expert_params if moe else expert_params
    L = c["num_hidden_layers"]
    active = L * (attention_params + mlp_active + router_params) + h * c["vocab_size"]
    if trainable == "stage1":
        trainable_active = L * (router_params + topk * expert_params * (num_experts - 1) // num_experts)
    elif trainable == "stage2":
        trainable_active = L * router_params
    else:
        trainable_active = 0
    tokens = float(batch * seq_len)
    attention = L * 4.0 * batch * seq_len * seq_len * c["num_attention_heads"] * d
    return dict(active=active, trainable_active=trainable_active,
                forward=2.0 * active * tokens + attention,
                training_model=6.0 * active * tokens + 3 * attention,
                training_executed=4.0 * active * tokens + 2.0 * trainable_active * tokens + 3 * attention)


def mlp_forward_flops(hidden, intermediate, tokens):
    return 6.0 * hidden * intermediate * tokens


# --------------------------------------------------------------------------------------------------------------------
# The model (src/MoeLpr/Model), module and parameter names as the HF / PEFT state-dict keys
# --------------------------------------------------------------------------------------------------------------------


NARROW_DTYPES = (torch.bfloat16, torch.float16)


def at_least_f32(dtype):
    return torch.float64 if dtype == torch.float64 else torch.float32


class RMSNorm(nn.Module):
    def __init__(self, hidden, eps, dtype):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden, dtype=dtype))

    def forward(self, x):
        """The kit's: libtorch's rms_norm without a weight (HF's ops on the CPU, one fused kernel each way on CUDA,
        PyTorch >= 2.9), the weight after the cast back as in HF; HF's ops where PyTorch has no rms_norm."""
        if hasattr(torch, "rms_norm"):
            normed = torch.rms_norm(x, [x.shape[-1]], None, self.eps)
        else:
            xf = x.to(at_least_f32(x.dtype))
            normed = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)
        return self.weight * normed


def rotary_tables(head_dim, theta, seq_len, device, dtype):
    """cos and sin with its first half negated, in the model dtype: computed in float32 (float64) and cast once per
    forward, as the kit and HF."""
    compute = at_least_f32(dtype)
    exponents = torch.arange(0, head_dim, 2, dtype=compute, device=device) / head_dim
    inv_freq = torch.pow(theta, exponents).reciprocal()
    positions = torch.arange(seq_len, dtype=compute, device=device)
    freqs = positions.unsqueeze(1) * inv_freq.unsqueeze(0)
    angles = torch.cat([freqs, freqs], dim=-1)
    sin, half = angles.sin(), head_dim // 2
    return angles.cos().to(dtype), torch.cat([-sin[..., :half], sin[..., half:]], dim=-1).to(dtype)


def apply_rotary(x, cos, signed_sin):
    """The kit's: HF's x·cos + rotate_half(x)·sin as x·cos + roll(x, d/2)·signed_sin, the same values bit for bit."""
    return x * cos + x.roll(x.shape[-1] // 2, -1) * signed_sin


class LlamaAttention(nn.Module):
    def __init__(self, c, dtype, attention):
        super().__init__()
        h, self.heads, self.kv_heads = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.head_dim = h // self.heads
        self.attention = attention
        self.q_proj = nn.Linear(h, self.heads * self.head_dim, bias=False, dtype=dtype)
        self.k_proj = nn.Linear(h, self.kv_heads * self.head_dim, bias=False, dtype=dtype)
        self.v_proj = nn.Linear(h, self.kv_heads * self.head_dim, bias=False, dtype=dtype)
        self.o_proj = nn.Linear(self.heads * self.head_dim, h, bias=False, dtype=dtype)

    def forward(self, x, cos, signed_sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, cos, signed_sin), apply_rotary(k, cos, signed_sin)
        groups = self.heads // self.kv_heads
        if groups > 1:
            k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        if self.attention == "sdpa":
            attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            # the kit's: scores scaled in the model dtype, masked and softmaxed in float32
            scores = (q.matmul(k.transpose(2, 3)) * (1.0 / math.sqrt(self.head_dim))).to(at_least_f32(x.dtype))
            future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            weights = scores.masked_fill(future, float("-inf")).softmax(-1).to(v.dtype)
            attended = weights.matmul(v)
        return self.o_proj(attended.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class LlamaMLP(nn.Module):
    def __init__(self, hidden, intermediate, dtype):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False, dtype=dtype)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False, dtype=dtype)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False, dtype=dtype)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


PROJECTIONS = ("gate_proj", "up_proj", "down_proj")


def grouped_swiglu(x, wg, wu, wd, ends):
    gate = torch._grouped_mm(x, wg.transpose(1, 2), ends)
    up = torch._grouped_mm(x, wu.transpose(1, 2), ends)
    return torch._grouped_mm(F.silu(gate) * up, wd.transpose(1, 2), ends)


class SharedStackSwiGLU(torch.autograd.Function):
    """The kit's SharedStackSwiGLU (GroupedExperts.cs): the grouped SwiGLU over a block's shared stacks, differentiable
    in the experts' own parameters. Its backward forms the products autograd forms for _grouped_mm, with the same
    layouts, and hands each trainable expert its slice of the stacks' gradient (a frozen one gets none)."""

    @staticmethod
    def forward(ctx, x, ends, stacks, *weights):  # weights: every expert's gate, up, down, expert-major
        wg, wu, wd = stacks
        g = torch._grouped_mm(x, wg.transpose(1, 2), ends)
        u = torch._grouped_mm(x, wu.transpose(1, 2), ends)
        ctx.save_for_backward(x, g, u, wg, wu, wd, ends)
        ctx.input_gradient = x.requires_grad
        ctx.trainable = [w.requires_grad for w in weights]
        return torch._grouped_mm(F.silu(g) * u, wd.transpose(1, 2), ends)

    @staticmethod
    def backward(ctx, dy):
        x, g, u, wg, wu, wd, ends = ctx.saved_tensors
        silu = F.silu(g)
        d_down = torch._grouped_mm(dy.transpose(0, 1), silu * u, ends)
        d_activation = torch._grouped_mm(dy, wd, ends)
        du = d_activation * silu
        dg = torch.ops.aten.silu_backward(d_activation * u, g)
        stack_grads = (torch._grouped_mm(dg.transpose(0, 1), x, ends), torch._grouped_mm(du.transpose(0, 1), x, ends),
                       d_down)
        dx = torch._grouped_mm(dg, wg, ends) + torch._grouped_mm(du, wu, ends) if ctx.input_gradient else None
        per_weight = [stack_grads[i % 3][i // 3] if t else None for i, t in enumerate(ctx.trainable)]
        return (dx, None, None, *per_weight)


def choices_by_expert(selected, n):
    """The kit's ChoicesByExpert.Sort: the T·K (token, choice) pairs grouped by expert by one stable sort of the chosen
    ids, narrowed to uint8 first (a CUDA radix sort makes one pass per key byte: eight for int64 ids, one for uint8).
    Returns the sorted ids, the order (choice at each sorted position) and each sorted choice's token (choice i / K)."""
    keys = selected.reshape(-1).to(torch.uint8 if n <= 255 else torch.int32)
    sorted_experts, order = keys.sort(dim=0, stable=True)
    return sorted_experts, order, torch.div(order, selected.shape[1], rounding_mode="floor")


class MoeBlock(nn.Module):
    """MoE-LPR layer: expert 0 = base_layer (the original MLP), experts 1..N-1 = moe_experts, router without bias.

    impl "loop" is the kit's MoeBlock.forward: one stable sort of the B·T·K (token, choice) pairs by expert, ONE host
    sync for the per-expert counts, then each chosen expert once on its tokens (gather, 3 matmuls, scatter-add) in
    ascending expert order. "grouped-mm" is the kit's grouped dispatch (GroupedExperts.cs); "padded-bmm" pads the
    groups to the largest and runs bmm (same output).
    """

    def __init__(self, base_layer, new_experts, topk, impl="loop"):
        super().__init__()
        self.base_layer = base_layer
        self.moe_experts = nn.ModuleList(new_experts)
        w = base_layer.gate_proj.weight
        self.moe_router_embedding = nn.Linear(w.shape[1], len(new_experts) + 1, bias=False, dtype=w.dtype, device=w.device)
        self.num_experts = len(new_experts) + 1
        self.topk = topk
        self.impl = impl
        self.share_expert_storage()

    def share_expert_storage(self):
        """The kit's StackedExpertWeights: each expert's weight becomes a view of its slice of one [N, out, in] tensor
        per projection (param.data is rebound: the Parameter objects stay). Build the block on its final device."""
        with torch.no_grad():
            self.stacks = []
            for p in PROJECTIONS:
                weights = [getattr(self.expert(e), p).weight for e in range(self.num_experts)]
                stack = torch.stack([w.detach() for w in weights])
                for e, w in enumerate(weights):
                    w.data = stack[e]
                self.stacks.append(stack)

    def expert(self, e):
        return self.base_layer if e == 0 else self.moe_experts[e - 1]

    def route(self, tokens):
        # widened once, as the kit does: the softmax would widen them itself, and the block returns them widened
        logits = self.moe_router_embedding(tokens).to(at_least_f32(tokens.dtype))
        probabilities = logits.softmax(1)
        weights, selected = probabilities.topk(self.topk, dim=-1)
        if self.topk > 1:
            weights = weights / weights.sum(-1, keepdim=True)
        return logits, weights.to(tokens.dtype), selected

    def forward(self, hidden_states):
        shape = hidden_states.shape
        tokens = hidden_states.reshape(-1, shape[-1])
        logits, weights, selected = self.route(tokens)
        if self.impl == "loop":
            mixed = self._loop(tokens, weights, selected)
        else:
            mixed = self._batched(tokens, weights, selected)
        return mixed.reshape(shape), logits

    def _loop(self, tokens, weights, selected):
        n = self.num_experts
        sorted_experts, order, token_of_choice = choices_by_expert(selected, n)
        weight_of_choice = weights.reshape(-1).index_select(0, order).unsqueeze(1)
        counts = sorted_experts.bincount(minlength=n).cpu().tolist()  # the one host sync
        mixed = torch.zeros_like(tokens)
        start = 0
        for e in range(n):
            c = counts[e]
            if c == 0:
                continue
            index = token_of_choice.narrow(0, start, c)
            out = self.expert(e)(tokens.index_select(0, index)) * weight_of_choice.narrow(0, start, c)
            mixed.index_add_(0, index, out)
            start += c
        return mixed

    def expert_weights(self):
        """Every expert's gate, up and down weight, expert-major."""
        return [getattr(self.expert(e), p).weight for e in range(self.num_experts) for p in PROJECTIONS]

    def experts_train(self):
        return torch.is_grad_enabled() and any(w.requires_grad for w in self.expert_weights())

    def stacked_weights(self):
        # frozen experts (stage 2, no_grad) are read from the shared stacks in place; otherwise torch.stack of the
        # parameters keeps autograd: each expert's slice of the gradient reaches its own parameter, and a frozen
        # parameter (expert 0) gets none
        if not self.experts_train():
            return self.stacks
        weights = self.expert_weights()
        return [torch.stack(weights[p::3]) for p in range(3)]

    def grouped_swiglu(self, x_sorted, ends):
        """As the kit: training experts read the shared stacks through SharedStackSwiGLU (eager; under torch.compile,
        whose tracing that function's nested autograd would break, torch.stack copies them)."""
        compiling = hasattr(torch, "compiler") and torch.compiler.is_compiling()
        if self.experts_train() and not compiling:
            return SharedStackSwiGLU.apply(x_sorted, ends, self.stacks, *self.expert_weights())
        return grouped_swiglu(x_sorted, *self.stacked_weights(), ends)

    def _batched(self, tokens, weights, selected):
        """Experts' matmuls batched: choices sorted by expert; padded bmm (capacity = max count, one host sync) or
        torch._grouped_mm with device offsets (no sync on sm90+ bf16). K contributions summed in ascending expert
        order through a gather (deterministic, no atomics)."""
        k, n = self.topk, self.num_experts
        bt, h = tokens.shape
        if k > 2:  # a token's K choices in ascending expert order, so that the final sum runs in that order
            selected, perm = selected.sort(dim=1)  # (for K <= 2 the order cannot change it: a + b == b + a)
            weights = weights.gather(1, perm)
        sorted_experts, order, token_of_choice = choices_by_expert(selected, n)
        x_sorted = tokens.index_select(0, token_of_choice)
        # group boundaries by binary search, not bincount (CUDA's bincount reads min and max back to the host)
        boundaries = torch.searchsorted(sorted_experts, torch.arange(n + 1, dtype=sorted_experts.dtype, device=order.device),
                                        out_int32=self.impl == "grouped-mm")
        if self.impl == "grouped-mm":
            y_sorted = self.grouped_swiglu(x_sorted, boundaries[1:])
            y_choice = torch.empty_like(y_sorted).index_copy(0, order, y_sorted)  # back to choice order
        elif self.impl == "padded-bmm":
            starts = boundaries[:n]
            wg, wu, wd = self.stacked_weights()
            capacity = int((boundaries[1:] - starts).max().item())  # the one host sync
            position = torch.empty_like(order).scatter_(0, order, torch.arange(order.numel(), device=order.device))
            rank = torch.arange(order.numel(), device=order.device) - starts.index_select(0, sorted_experts.long())
            slot = sorted_experts.long() * capacity + rank
            x_pad = torch.zeros(n * capacity, h, dtype=tokens.dtype, device=tokens.device).index_copy(0, slot, x_sorted)
            x_pad = x_pad.view(n, capacity, h)
            act = F.silu(x_pad.bmm(wg.transpose(1, 2))) * x_pad.bmm(wu.transpose(1, 2))
            y_pad = act.bmm(wd.transpose(1, 2)).view(n * capacity, h)
            y_choice = y_pad.index_select(0, slot.index_select(0, position))
        else:
            raise ValueError(f"unknown MoE implementation {self.impl}")
        # one reduction over K (its backward only broadcasts the gradient), as the kit
        return (y_choice * weights.reshape(-1, 1)).view(bt, k, h).sum(1)


class DecoderLayer(nn.Module):
    def __init__(self, c, dtype, attention):
        super().__init__()
        self.self_attn = LlamaAttention(c, dtype, attention)
        self.mlp = LlamaMLP(c["hidden_size"], c["intermediate_size"], dtype)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], dtype)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], dtype)

    def forward(self, x, cos, signed_sin):
        hidden = x + self.self_attn(self.input_layernorm(x), cos, signed_sin)
        normed = self.post_attention_layernorm(hidden)
        if isinstance(self.mlp, MoeBlock):
            ffn, router_logits = self.mlp(normed)
        else:
            ffn, router_logits = self.mlp(normed), None
        return hidden + ffn, router_logits


class LlamaModel(nn.Module):
    def __init__(self, c, dtype, attention):
        super().__init__()
        self.config = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"], dtype=dtype)
        self.layers = nn.ModuleList([DecoderLayer(c, dtype, attention) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], dtype)

    def forward(self, input_ids):
        hidden = self.embed_tokens(input_ids)
        c = self.config
        cos, signed_sin = rotary_tables(c["hidden_size"] // c["num_attention_heads"], c["rope_theta"], input_ids.shape[1],
                                 hidden.device, hidden.dtype)
        router_logits = []
        for layer in self.layers:
            hidden, r = layer(hidden, cos, signed_sin)
            if r is not None:
                router_logits.append(r)
        return self.norm(hidden), router_logits


class LlamaForCausalLM(nn.Module):
    def __init__(self, c, dtype, attention="math"):
        super().__init__()
        self.model = LlamaModel(c, dtype, attention)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False, dtype=dtype)

    def forward(self, input_ids, labels=None):
        hidden, router_logits = self.model(input_ids)
        logits = self.lm_head(hidden)
        logits = logits.to(at_least_f32(logits.dtype))
        lm_loss = None
        if labels is not None:
            vocab, t = logits.shape[-1], logits.shape[1]
            lm_loss = F.cross_entropy(logits[:, : t - 1].reshape(-1, vocab), labels[:, 1:].reshape(-1), ignore_index=-100)
        return logits, lm_loss, router_logits


def upcycle(model, moe, seed, impl):
    """Upcycler.Upcycle: expert 0 = the dense MLP, experts 1..N-1 = copies, router xavier-normal in float32."""
    generator = torch.Generator().manual_seed(seed)
    for layer in model.model.layers:
        dense = layer.mlp
        copies = [copy.deepcopy(dense) for _ in range(moe["num_experts"] - 1)]
        block = MoeBlock(dense, copies, moe["topk"], impl)
        w = block.moe_router_embedding.weight
        std = math.sqrt(2.0 / (w.shape[1] + w.shape[0]))
        with torch.no_grad():
            w.copy_(torch.randn(w.shape, dtype=torch.float32, generator=generator) * std)
        layer.mlp = block


def load_balancing_loss(router_logits, n, k):
    """All layers routed at once, as the kit's LoadBalancingLoss: F and P are means over each layer's tokens."""
    layers, tokens = len(router_logits), router_logits[0].shape[0]
    logits = torch.cat(router_logits)
    p = logits.softmax(-1, dtype=at_least_f32(logits.dtype))
    chosen = F.one_hot(p.topk(k, dim=-1).indices, n).sum(1).to(p.dtype).view(layers, tokens, n)
    p = p.view(layers, tokens, n)
    return (n * (chosen.mean(1) * p.mean(1)).sum(1)).mean()


def lpr_loss(router_logits, old_mask):
    # the kit's masked mean: selecting the old tokens (nonzero) would wait for the device, and no graph could hold it
    logits = torch.stack(router_logits)
    logits = logits.to(at_least_f32(logits.dtype))
    old = old_mask.reshape(1, -1).to(logits.device).bool()
    per_token = -logits.log_softmax(-1)[..., 0]
    total = torch.where(old, per_token, torch.zeros_like(per_token)).sum()
    return total / (old.sum().to(total.dtype) * logits.shape[0]).clamp_min(1)


def is_trainable(stage, name):
    return "moe_" in name if stage == 1 else "moe_router_embedding" in name


def stage_loss(stage, moe, output, old_mask):
    _, lm, router_logits = output
    if stage == 1:
        return lm + moe["aux_loss_coef"] * load_balancing_loss(router_logits, moe["num_experts"], moe["topk"])
    return lm + moe["lpr_loss_coef"] * lpr_loss(router_logits, old_mask)


# --------------------------------------------------------------------------------------------------------------------
# Harness (Stopwatches.cs, TimingStats.cs, MemoryProbe.cs, MatmulPeak.cs)
# --------------------------------------------------------------------------------------------------------------------


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timing_stats(wall, cpu, warmup):
    return {"median_seconds": statistics.median(wall), "min_seconds": min(wall), "max_seconds": max(wall),
            "cpu_median_seconds": statistics.median(cpu), "warmup": warmup,
            "samples_seconds": list(wall), "cpu_samples_seconds": list(cpu)}


def once(device, run):
    gc.collect()
    synchronize(device)
    cpu0, t0 = time.process_time(), time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - t0, time.process_time() - cpu0


def measure(device, warmup, repetitions, run):
    for _ in range(warmup):
        run()
        synchronize(device)
    samples = [once(device, run) for _ in range(repetitions)]
    return timing_stats([s[0] for s in samples], [s[1] for s in samples], warmup)


def measure_pair(device, warmup, repetitions, a, b):
    """a, b, a, b, ...: the ratio b/a is the median of the per-pair ratios."""
    for _ in range(warmup):
        a(); b(); synchronize(device)
    sa, sb = [], []
    for _ in range(repetitions):
        sa.append(once(device, a))
        sb.append(once(device, b))
    ratio = statistics.median(y[0] / x[0] for x, y in zip(sa, sb))
    return (timing_stats([s[0] for s in sa], [s[1] for s in sa], warmup),
            timing_stats([s[0] for s in sb], [s[1] for s in sb], warmup), ratio)


def status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(device):
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def matmul_peak(device, dtype, size, per_sample, warmup, repetitions):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(size, size, generator=g).to(device, dtype)
    b = torch.randn(size, size, generator=g).to(device, dtype)

    def run():
        for _ in range(per_sample):
            torch.mm(a, b)
    t = measure(device, warmup, repetitions, run)
    flops = 2.0 * size ** 3 * per_sample
    return {"size": size, "d_type": DTYPE_NAMES[dtype], "matmuls_per_sample": per_sample, "timing": t,
            "flops_per_second": flops / t["median_seconds"]}


DTYPE_NAMES = {torch.float32: "Float32", torch.bfloat16: "BFloat16", torch.float16: "Float16", torch.float64: "Float64"}

# --------------------------------------------------------------------------------------------------------------------
# Sections (MoeLayerBenchmark.cs, ThroughputBenchmark.cs, TrainStep.cs)
# --------------------------------------------------------------------------------------------------------------------


def maybe_compile(fn, mode):
    return torch.compile(fn) if mode == "compile" else fn


def moe_layer_section(size, device, dtype, impl, mode, warmup, repetitions):
    c, moe = size["model"], size["moe"]
    b, t = size["batch"], size["seq_len"]
    torch.manual_seed(7)
    dense = LlamaMLP(c["hidden_size"], c["intermediate_size"], dtype).to(device)
    copies = [copy.deepcopy(dense) for _ in range(moe["num_experts"] - 1)]
    block = MoeBlock(dense, copies, moe["topk"], impl)
    with torch.no_grad():
        nn.init.xavier_normal_(block.moe_router_embedding.weight)
    g = torch.Generator().manual_seed(11)
    x = torch.randn(b, t, c["hidden_size"], generator=g).to(device, dtype)
    grad_out = torch.randn(b, t, c["hidden_size"], generator=g).to(device, dtype)
    with torch.no_grad():
        _, logits = block(x)
        per_expert = logits.topk(moe["topk"], dim=-1).indices.reshape(-1).bincount(minlength=moe["num_experts"]).cpu().tolist()

    dense_fn = maybe_compile(lambda v: dense(v), mode)
    moe_fn = maybe_compile(lambda v: block(v)[0], mode)

    def forward(f):
        def run():
            with torch.no_grad():
                f(x)
        return run

    def forward_backward(module, f):
        def run():
            inp = x.detach().requires_grad_(True)
            torch.autograd.backward([f(inp)], [grad_out])
            module.zero_grad(set_to_none=True)
        return run

    def trainable(pred):
        for name, p in block.named_parameters():
            p.requires_grad_(pred(name))

    dense_fwd, moe_fwd, fwd_ratio = measure_pair(device, warmup, repetitions, forward(dense_fn), forward(moe_fn))
    trainable(lambda n: True)
    dense_fb, moe_fb, fb_ratio = measure_pair(device, warmup, repetitions, forward_backward(dense, dense_fn), forward_backward(block, moe_fn))
    for p in dense.parameters():  # frozen dense MLP (as every MLP of a frozen base)
        p.requires_grad_(False)
    trainable(lambda n: "moe_" in n)
    dense_frozen, stage1, stage1_ratio = measure_pair(device, warmup, repetitions, forward_backward(dense, dense_fn), forward_backward(block, moe_fn))
    trainable(lambda n: "moe_router_embedding" in n)
    _, stage2, stage2_ratio = measure_pair(device, warmup, repetitions, forward_backward(dense, dense_fn), forward_backward(block, moe_fn))
    tokens = b * t
    return {
        "tokens": tokens, "hidden": c["hidden_size"], "intermediate": c["intermediate_size"],
        "num_experts": moe["num_experts"], "top_k": moe["topk"], "tokens_per_expert": per_expert,
        "dense_forward": dense_fwd, "moe_forward": moe_fwd, "forward_ratio": fwd_ratio,
        "dense_forward_backward": dense_fb, "moe_forward_backward": moe_fb, "forward_backward_ratio": fb_ratio,
        "dense_frozen_forward_backward": dense_frozen, "moe_stage1_forward_backward": stage1, "stage1_ratio": stage1_ratio,
        "moe_stage2_forward_backward": stage2, "stage2_ratio": stage2_ratio,
        "dense_forward_flops_per_second": mlp_forward_flops(c["hidden_size"], c["intermediate_size"], tokens) / dense_fwd["median_seconds"],
        "moe_impl": impl, "execution": mode,
    }


def throughput_result(name, description, tokens, timing, counts, flops, executed, peak, peak_local, frozen_with_grad, loss, device,
                      mode, first_call):
    achieved = flops / timing["median_seconds"]
    r = {"workload": name, "description": description, "tokens_per_batch": tokens, "timing": timing,
         "tokens_per_second": tokens / timing["median_seconds"], "active_params": counts["active"],
         "trainable_active_params": counts["trainable_active"], "flops_per_batch": flops, "executed_flops_per_batch": executed,
         "achieved_flops_per_second": achieved, "fraction_of_matmul_peak": achieved / peak,
         "executed_fraction_of_matmul_peak": executed / timing["median_seconds"] / peak,
         "peak_rss_bytes": status_kb("VmHWM") * 1024, "peak_rss_is_phase_local": peak_local,
         "frozen_parameters_with_gradient": frozen_with_grad, "last_loss": loss,
         "execution": mode, "first_call_seconds": first_call}
    if device.type == "cuda":
        r["peak_cuda_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
    return r


def throughput_section(size, device, dtype, impl, attention, mode, peak, warmup, repetitions, log):
    """Dense forward, upcycle, MoE forward, stage-1 and stage-2 training (each timed after `warmup` untimed runs)."""
    c, moe = size["model"], size["moe"]
    b, t = size["batch"], size["seq_len"]
    torch.manual_seed(1)
    model = LlamaForCausalLM(c, dtype, attention).to(device)
    g = torch.Generator().manual_seed(4)
    ids = torch.randint(0, c["vocab_size"], (b, t), generator=g).to(device)
    labels = ids.clone()
    old = torch.zeros(b, t, dtype=torch.bool, device=device)
    old[: max(1, b // 2)] = True
    tokens = b * t
    results, compile_seconds = [], {}

    def timed_first(name, run):
        """The first call (where torch.compile compiles) is timed separately and not part of the samples."""
        t0 = time.perf_counter()
        run()
        synchronize(device)
        compile_seconds[name] = time.perf_counter() - t0

    def forward_workload(name, description, counts):
        model.eval()
        fwd = maybe_compile(lambda i: model(i)[0], mode)

        def run():
            with torch.no_grad():
                fwd(ids)
        timed_first(name, run)
        local = reset_peak(device)
        timing = measure(device, warmup, repetitions, run)
        r = throughput_result(name, description, tokens, timing, counts, counts["forward"], counts["forward"], peak, local, None, None, device,
                             mode, compile_seconds[name])
        results.append(r)
        log(r)

    forward_workload("dense forward", "no_grad forward of the dense model (logits)",
                     flop_counts(c, 1, 1, False, b, t, None))
    upcycle(model, moe, seed=3, impl=impl)
    model.to(device)
    forward_workload("moe forward", f"no_grad forward, {moe['num_experts']} experts top-{moe['topk']}",
                     flop_counts(c, moe["num_experts"], moe["topk"], True, b, t, None))

    for stage in (1, 2):
        counts = flop_counts(c, moe["num_experts"], moe["topk"], True, b, t, "stage1" if stage == 1 else "stage2")
        step, last = training_step(model, moe, stage, mode, ids, labels, old)
        name = f"stage {stage} train"
        timed_first(name, step)
        local = reset_peak(device)
        timing = measure(device, warmup, repetitions, step)
        frozen_with_grad = sum(1 for p in model.parameters() if not p.requires_grad and p.grad is not None)
        description = ("routers + new experts trainable; LM + 0.01·L_bal" if stage == 1
                       else "routers trainable; LM + 0.1·L_LPR (half the rows old-language)")
        r = throughput_result(name, description, tokens, timing, counts, counts["training_model"], counts["training_executed"],
                              peak, local, frozen_with_grad, last[0], device, mode, compile_seconds[name])
        results.append(r)
        log(r)
        model.zero_grad(set_to_none=True)
    return results


def training_step(model, moe, stage, mode, ids, labels, old):
    """The kit's TrainingStep for a stage: the stage's parameters trainable, AdamW over them, the stage's loss,
    global-norm clipping at 1. Returns the step and a cell holding the last loss."""
    for name, p in model.named_parameters():
        p.requires_grad_(is_trainable(stage, name))
    model.zero_grad(set_to_none=True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    # The kit's MultiTensorAdamW: a parameter narrower than float32 is updated through a float32 master, its gradient
    # widened before clipping and the master rounded back into it (pure bfloat16 AdamW drops most small steps).
    masters = [p.detach().float().requires_grad_() if p.dtype in NARROW_DTYPES else p for p in params]
    widened = [(p, m) for p, m in zip(params, masters) if m is not p]
    optimizer = torch.optim.AdamW(masters, lr=1e-4, weight_decay=0.0)
    loss_fn = maybe_compile(lambda i, l, o: stage_loss(stage, moe, model(i, l), o), mode)
    last = [None]

    def forward_backward():
        loss = loss_fn(ids, labels, old)
        loss.backward()
        return loss

    if mode == "eager-graphs":
        forward_backward = graphed(forward_backward, params)

    def step():
        loss = forward_backward()
        for p, m in widened:   # a master's gradient buffer is kept from step to step, as the kit's
            if p.grad is None:
                m.grad = None
            elif m.grad is None:
                m.grad = torch.empty_like(m)
        with_grad = [(p, m) for p, m in widened if p.grad is not None]
        if with_grad:
            torch._foreach_copy_([m.grad for _, m in with_grad], [p.grad for p, _ in with_grad])
        torch.nn.utils.clip_grad_norm_(masters, 1.0)
        optimizer.step()
        if with_grad:
            with torch.no_grad():
                torch._foreach_copy_([p for p, _ in with_grad], [m for _, m in with_grad])
        if mode == "eager-graphs":   # the graph adds into the gradients it recorded: zero them in place
            torch._foreach_zero_([p.grad for p in params if p.grad is not None])
        else:
            for p in params:
                p.grad = None
        last[0] = loss.item()
    return step, last


def graphed(forward_backward, params):
    """The kit's --cuda-graphs: forward, loss and backward recorded once as a CUDA graph (after three warm-up passes
    on a side stream, their gradients zeroed) and replayed at every call; returns the loss the graph writes."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            forward_backward()
    torch.cuda.current_stream().wait_stream(side)
    torch._foreach_zero_([p.grad for p in params if p.grad is not None])
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        loss = forward_backward()

    def replay():
        graph.replay()
        return loss.detach().clone()
    return replay


def host_overhead_section(device, dtype, impl, attention, mode, repetitions):
    """The kit's host-overhead section: stage-1 and stage-2 steps of a model whose kernels cost next to nothing, one
    torch thread; what is left is the cost of issuing each operation, which paces a GPU step at the benchmark size."""
    h = HOST_OVERHEAD
    c, moe, n = h["model"], h["moe"], h["steps_per_sample"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stages = []
        for stage in (1, 2):
            torch.manual_seed(1)
            model = LlamaForCausalLM(c, dtype, attention).to(device)
            upcycle(model, moe, seed=3, impl=impl)
            model.to(device)
            g = torch.Generator().manual_seed(4)
            ids = torch.randint(0, c["vocab_size"], (h["batch"], h["seq_len"]), generator=g).to(device)
            old = torch.zeros(h["batch"], h["seq_len"], dtype=torch.bool, device=device)
            old[0] = True
            step, _ = training_step(model, moe, stage, mode, ids, ids.clone(), old)
            step()  # torch.compile compiles here

            def run():
                for _ in range(n):
                    step()
            timing = measure(device, 1, repetitions, run)
            stages.append({"stage": stage, **{k: v * 1e6 / n for k, v in timing.items()
                                              if k in ("median_seconds", "min_seconds", "max_seconds",
                                                       "cpu_median_seconds")}})
    finally:
        torch.set_num_threads(threads)
    return {"config": f"hidden {c['hidden_size']}, {c['num_hidden_layers']} layers, vocab {c['vocab_size']}, "
                      f"{h['batch']} × {h['seq_len']} tokens, {moe['num_experts']} experts top-{moe['topk']}",
            "steps_per_sample": n, "stages_microseconds": stages}


def host_overhead_markdown(host, label):
    md = [f"## Host time per training step, {label} ({host['config']}; one torch thread)\n",
          f"Per step, from samples of {host['steps_per_sample']} steps (the kit's `host-overhead` section).\n",
          "| stage | µs per step | min–max | CPU µs |", "|---|---:|---|---:|"]
    for s in host["stages_microseconds"]:
        md.append(f"| {s['stage']} | **{s['median_seconds']:.0f}** | {s['min_seconds']:.0f}–{s['max_seconds']:.0f} | "
                  f"{s['cpu_median_seconds']:.0f} |")
    md.append("")
    return md


# --------------------------------------------------------------------------------------------------------------------
# Machine description and reports (MachineDescription.cs, BenchmarkReport.cs)
# --------------------------------------------------------------------------------------------------------------------


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def os_description():
    try:
        with open("/etc/os-release") as f:
            fields = dict(line.rstrip().split("=", 1) for line in f if "=" in line)
        return f"{fields.get('PRETTY_NAME', '').strip(chr(34))} ({platform.machine()})"
    except OSError:
        return f"{platform.system()} {platform.release()} ({platform.machine()})"


def torch_version():
    """torch.__version__, and the distribution's package version where it says more (Debian's 1.13.1 reports 1.13.0a0)."""
    version = torch.__version__
    if torch.__file__.startswith("/usr/lib/python3/dist-packages/"):
        try:
            deb = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"], capture_output=True, text=True, timeout=10)
            if deb.returncode == 0 and deb.stdout:
                return deb.stdout.split("+")[0], f"{version} (Debian python3-torch {deb.stdout})"
        except (OSError, subprocess.SubprocessError):
            pass
    return version.split("+")[0], version


def blas_libraries():
    """The BLAS/oneDNN libraries mapped into this process (a reference BLAS makes every CPU number meaningless)."""
    names = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if any(s in base for s in ("blas", "mkl", "dnnl", "lapack", "blis")):
                    names.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(names)


def machine_description(device, dtype, threads, note):
    short, full = torch_version()
    m = {"cpu_model": cpu_model(), "logical_cores": os.cpu_count(), "torch_threads": threads,
         "framework": "PyTorch", "torch_version": full, "lib_torch_version": short,
         "os": os_description(), "python": f"Python {platform.python_version()}", "device": str(device),
         "d_type": DTYPE_NAMES[dtype], "cuda_note": note, "blas": blas_libraries(),
         "load_average_at_start": load_average(), "load_average_at_end": None,
         "started_utc": _dt.datetime.now(_dt.timezone.utc).isoformat()}
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        m["gpu"] = f"{p.name}, {p.total_memory / 2**30:.1f} GiB, CUDA {torch.version.cuda}"
    return m


def fmt(v, f="{:.3f}"):
    return f.format(v)


def ms(t):
    return f"{t['median_seconds'] * 1000:.1f} ({t['min_seconds'] * 1000:.1f}–{t['max_seconds'] * 1000:.1f})"


def moe_layer_markdown(l):
    md = [f"Tokens per expert: {', '.join(map(str, l['tokens_per_expert']))}; MoE implementation `{l['moe_impl']}`\n",
          "| pass | dense MLP ms | MoE ms | MoE / dense | CPU-time ratio |", "|---|---:|---:|---:|---:|"]

    def cpu(a, b):
        return f"{l[b]['cpu_median_seconds'] / l[a]['cpu_median_seconds']:.2f}"
    md.append(f"| forward (no_grad) | {ms(l['dense_forward'])} | {ms(l['moe_forward'])} | **{l['forward_ratio']:.2f}** | {cpu('dense_forward', 'moe_forward')} |")
    md.append(f"| forward+backward, all trainable | {ms(l['dense_forward_backward'])} | {ms(l['moe_forward_backward'])} | **{l['forward_backward_ratio']:.2f}** | {cpu('dense_forward_backward', 'moe_forward_backward')} |")
    md.append(f"| forward+backward, stage 1 (expert 0 frozen) vs frozen dense | {ms(l['dense_frozen_forward_backward'])} | {ms(l['moe_stage1_forward_backward'])} | {l['stage1_ratio']:.2f} | {cpu('dense_frozen_forward_backward', 'moe_stage1_forward_backward')} |")
    md.append(f"| forward+backward, stage 2 (router only) vs frozen dense | {ms(l['dense_frozen_forward_backward'])} | {ms(l['moe_stage2_forward_backward'])} | {l['stage2_ratio']:.2f} | {cpu('dense_frozen_forward_backward', 'moe_stage2_forward_backward')} |")
    md.append(f"\nDense MLP forward: {l['dense_forward_flops_per_second'] / 1e9:.1f} GFLOP/s\n")
    return md


def throughput_markdown(rows):
    md = ["| workload | ms / batch | CPU ms / batch | tokens/s | GFLOP/batch (model) | achieved GFLOP/s | of matmul peak (model / executed FLOPs) | peak RSS MiB | frozen params with grad | first call s |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        fg = "–" if r["frozen_parameters_with_gradient"] is None else r["frozen_parameters_with_gradient"]
        md.append(f"| {r['workload']} | {ms(r['timing'])} | {r['timing']['cpu_median_seconds'] * 1000:.0f} | {r['tokens_per_second']:.0f} | "
                  f"{r['flops_per_batch'] / 1e9:.1f} | {r['achieved_flops_per_second'] / 1e9:.1f} | "
                  f"{100 * r['fraction_of_matmul_peak']:.1f} % / {100 * r['executed_fraction_of_matmul_peak']:.1f} % | "
                  f"{r['peak_rss_bytes'] / 2**20:.0f}{'' if r['peak_rss_is_phase_local'] else ' (process peak)'} | {fg} | {r['first_call_seconds']:.1f} |")
    md.append("")
    return md


def to_markdown(report):
    m, c, moe = report["machine"], report["model"], report["moe"]
    md = [f"# MoeLpr benchmark, PyTorch peer ({report['mode']}, {m['device']}, {m['d_type']})\n",
          f"- Machine: {m['cpu_model']}, {m['logical_cores']} logical cores, torch threads {m['torch_threads']}; {m['os']}; {m['python']}",
          f"- PyTorch {m['torch_version']}" + (f"; {m['gpu']}" if m.get("gpu") else ""),
          f"- BLAS libraries loaded: {', '.join(m['blas']) or 'none found'}"]
    if m.get("cuda_note"):
        md.append(f"- CUDA: {m['cuda_note']}")
    md += [f"- Load average (1/5/15 min) at start: {m['load_average_at_start']}; at end: {m['load_average_at_end']} — timings on a loaded machine are inflated",
           f"- Started {m['started_utc'][:16].replace('T', ' ')} UTC",
           f"- Model: hidden {c['hidden_size']}, intermediate {c['intermediate_size']}, {c['num_hidden_layers']} layers, {c['num_attention_heads']} heads, "
           f"vocab {c['vocab_size']}; batch {report['batch']} × seq {report['seq_len']} = {report['batch'] * report['seq_len']} tokens; "
           f"MoE {moe['num_experts']} experts top-{moe['topk']}; MoE implementation `{report['moe_impl']}`; attention `{report['attention']}`",
           f"- torch.compile: {report['torch_compile']['note']}",
           "- Times: median (min–max) wall-clock ms over the timed repetitions, after warm-up; CPU = median process CPU time (all threads)\n"]
    if report.get("matmul_peak"):
        p = report["matmul_peak"]
        md.append(f"**Matmul peak** ({p['size']}×{p['size']} {p['d_type']}): {p['flops_per_second'] / 1e9:.1f} GFLOP/s "
                  f"(median of {len(p['timing']['samples_seconds'])}; wall {p['timing']['median_seconds'] * 1000:.0f} ms for {p['matmuls_per_sample']} matmuls)\n")
    for label, layer, rows in (("eager", report.get("moe_layer"), report.get("throughput", [])),
                               ("torch.compile", report["torch_compile"].get("moe_layer"), report["torch_compile"].get("throughput", []))):
        if layer:
            md.append(f"## MoE layer vs dense MLP, {label} ({layer['tokens']} tokens, hidden {layer['hidden']}, intermediate {layer['intermediate']}, top-{layer['top_k']} of {layer['num_experts']})\n")
            md += moe_layer_markdown(layer)
        if rows:
            md.append(f"## Whole model, {label}\n")
            md += throughput_markdown(rows)
    for label, host in (("eager", report.get("host_overhead")), ("torch.compile", report["torch_compile"].get("host_overhead"))):
        if host:
            md += host_overhead_markdown(host, label)
    if report.get("comparison"):
        md.append(report["comparison"])
    md.append("## FLOP formula\n")
    md.append(FLOP_FORMULA)
    return "\n".join(md) + "\n"


def comparison_markdown(report, kit_path):
    """The issue's table: kit vs PyTorch eager vs torch.compile (tokens/s and MoE/dense ratios)."""
    with open(kit_path) as f:
        kit = json.load(f)
    kit_tp = {r["workload"]: r for r in kit.get("throughput", [])}
    eager = {r["workload"]: r for r in report.get("throughput", [])}
    comp = {r["workload"]: r for r in report["torch_compile"].get("throughput", [])}
    km = kit.get("machine", {})
    lines = [f"## Side by side with the kit ({os.path.basename(kit_path)}: {km.get('device')}, TorchSharp {km.get('torch_sharp_version')}, "
             f"libtorch {km.get('lib_torch_version')}, started {str(km.get('started_utc', ''))[:16]} UTC, load {km.get('load_average_at_start')})\n",
             "| tokens/s | kit | PyTorch eager | torch.compile | kit / eager | kit / compile |", "|---|---:|---:|---:|---:|---:|"]

    def cell(d, w):
        return f"{d[w]['tokens_per_second']:.0f}" if w in d else "–"

    def ratio(a, b, w):
        return f"{a[w]['tokens_per_second'] / b[w]['tokens_per_second']:.2f}" if w in a and w in b else "–"
    for w in ("dense forward", "moe forward", "stage 1 train", "stage 2 train"):
        lines.append(f"| {w} | {cell(kit_tp, w)} | {cell(eager, w)} | {cell(comp, w)} | {ratio(kit_tp, eager, w)} | {ratio(kit_tp, comp, w)} |")
    kl, el, cl = kit.get("moe_layer"), report.get("moe_layer"), report["torch_compile"].get("moe_layer")

    def lr(d, key):
        return f"{d[key]:.2f}×" if d else "–"
    lines += ["", "| MoE layer / dense MLP | kit | PyTorch eager | torch.compile |", "|---|---:|---:|---:|",
              f"| forward | {lr(kl, 'forward_ratio')} | {lr(el, 'forward_ratio')} | {lr(cl, 'forward_ratio')} |",
              f"| forward+backward | {lr(kl, 'forward_backward_ratio')} | {lr(el, 'forward_backward_ratio')} | {lr(cl, 'forward_backward_ratio')} |", ""]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch peer of the MoeLpr benchmark (see benchmarks/pytorch/README.md)")
    ap.add_argument("--size", choices=sorted(SIZES), default="full")
    ap.add_argument("--quick", action="store_true", help="same as --size quick (the C# benchmark's flag)")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda[:n]")
    ap.add_argument("--sections", default="matmul,moe-layer,throughput")
    ap.add_argument("--modes", default="eager,compile", help="eager, compile and/or eager-graphs (eager with forward+backward replayed from a CUDA graph, as the kit's --cuda-graphs; training only); compile is skipped, with a note, where torch.compile is missing")
    ap.add_argument("--moe-impl", default="loop", choices=["loop", "padded-bmm", "grouped-mm"],
                    help="loop = the kit's MoeBlock algorithm (default); padded-bmm / grouped-mm = the batched prototypes")
    ap.add_argument("--attention", default="auto", choices=["auto", "math", "sdpa"],
                    help="as the kit's --attention: auto (default) = sdpa on CUDA, math elsewhere; math = the kit's "
                         "eager attention")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repetitions", type=int, default=None,
                    help="timed runs per workload (default as the kit: 20 after 3 warm-ups on CUDA, 3 after 1 elsewhere)")
    ap.add_argument("--layer-repetitions", type=int, default=7)
    ap.add_argument("--batch", type=int, default=None, help="override the size's batch (for a smaller CPU run; the report says so)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--tag", default="")
    ap.add_argument("--compare", default=None, help="a C# benchmark JSON to put side by side")
    args = ap.parse_args(argv)

    size_name = "quick" if args.quick else args.size
    size = copy.deepcopy(SIZES[size_name])
    if args.batch:
        size["batch"] = args.batch
    sections = set(s.strip() for s in args.sections.split(",") if s.strip())
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for s in sections - {"matmul", "moe-layer", "throughput", "host-overhead"}:
        ap.error(f"unknown section {s}")

    cuda_note = None
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    if not torch.cuda.is_available():
        cuda_note = f"not available in this PyTorch build ({torch.__version__})"
        if device.type == "cuda":
            print(f"error: --device cuda, but {cuda_note}", file=sys.stderr)
            return 1
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    threads = args.threads or os.cpu_count()
    if device.type == "cpu":
        torch.set_num_threads(threads)
    threads = torch.get_num_threads()

    compile_available = hasattr(torch, "compile")
    if "compile" in modes and not compile_available:
        compile_note = f"not available in PyTorch {torch.__version__} (torch.compile arrived in 2.0): skipped"
        modes = [m for m in modes if m != "compile"]
    elif "compile" in modes:
        compile_note = f"torch.compile (default mode, inductor) of PyTorch {torch.__version__}; the first call (compilation) is timed separately (first call s)"
    else:
        compile_note = "not requested"
    if args.moe_impl == "grouped-mm" and not hasattr(torch, "_grouped_mm"):
        print(f"error: --moe-impl grouped-mm needs torch._grouped_mm (PyTorch ≥ 2.8); this is {torch.__version__}", file=sys.stderr)
        return 1

    if args.attention == "auto":
        args.attention = "sdpa" if device.type == "cuda" else "math"
    out_dir = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results")
    short_version, _ = torch_version()
    base = (f"benchmark-{device.type}{'' if size_name == 'full' else '-' + size_name}-pytorch-{short_version}"
            f"{'' if args.moe_impl == 'loop' else '-' + args.moe_impl}{'-' + args.tag if args.tag else ''}")
    machine = machine_description(device, dtype, threads, cuda_note)
    print(f"{machine['cpu_model']}, {machine['logical_cores']} cores, torch threads {threads}, PyTorch {machine['torch_version']}, "
          f"device {device} {DTYPE_NAMES[dtype]}; BLAS {machine['blas']}; load {machine['load_average_at_start']}", flush=True)
    report = {"machine": machine, "mode": size_name, "model": size["model"], "moe": size["moe"], "batch": size["batch"],
              "seq_len": size["seq_len"], "framework": "pytorch", "execution": "eager", "moe_impl": args.moe_impl,
              "attention": args.attention, "matmul_peak": None, "moe_layer": None, "throughput": [],
              "torch_compile": {"available": compile_available, "note": compile_note, "moe_layer": None, "throughput": []},
              "flop_formula": FLOP_FORMULA}
    if args.batch:
        report["batch_override_note"] = f"batch set to {args.batch} by --batch (the size's default is {SIZES[size_name]['batch']})"

    def log(msg):
        print(f"[{_dt.datetime.now(_dt.timezone.utc):%H:%M:%S}] {msg}", flush=True)

    def save():
        report["machine"]["load_average_at_end"] = load_average()
        if args.compare:
            report["comparison"] = comparison_markdown(report, args.compare)
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, base + ".json"), "w") as f:
            json.dump(report, f, indent=2, ensure_ascii=False)
            f.write("\n")
        with open(os.path.join(out_dir, base + ".md"), "w") as f:
            f.write(to_markdown(report))

    # as the kit: a GPU step takes milliseconds and varies more from call to call than a CPU step of seconds
    warmup, repetitions = (3, 20) if device.type == "cuda" else (1, 3)
    repetitions = args.repetitions or repetitions
    if "matmul" in sections or "throughput" in sections:
        n, per = (8192, 20) if device.type == "cuda" else (2048, 3)
        report["matmul_peak"] = matmul_peak(device, dtype, n, per, 2, repetitions)
        log(f"matmul peak {n}×{n} {DTYPE_NAMES[dtype]}: {report['matmul_peak']['flops_per_second'] / 1e9:.1f} GFLOP/s")
        save()

    for mode in modes:
        target = report if mode != "compile" else report["torch_compile"]
        try:
            if "moe-layer" in sections:
                layer = moe_layer_section(size, device, dtype, args.moe_impl, mode, warmup + 1 if mode == "compile" else warmup,
                                          args.layer_repetitions)  # compile: one more, its first call compiles
                target["moe_layer"] = layer
                log(f"[{mode}] MoE layer / dense MLP: forward {layer['forward_ratio']:.2f}× "
                    f"({layer['moe_forward']['median_seconds'] * 1000:.1f} vs {layer['dense_forward']['median_seconds'] * 1000:.1f} ms), "
                    f"forward+backward {layer['forward_backward_ratio']:.2f}× ({layer['moe_forward_backward']['median_seconds'] * 1000:.1f} vs "
                    f"{layer['dense_forward_backward']['median_seconds'] * 1000:.1f} ms); tokens per expert {layer['tokens_per_expert']}")
                save()
            if "host-overhead" in sections:
                host = host_overhead_section(device, dtype, args.moe_impl, args.attention, mode, 3)  # 300 steps a sample
                target["host_overhead"] = host
                log(f"[{mode}] host overhead ({host['config']}): " + ", ".join(
                    f"stage {s['stage']} {s['median_seconds']:.0f} µs per step" for s in host["stages_microseconds"]))
                save()
            if "throughput" in sections:
                def log_row(r, mode=mode):
                    log(f"[{mode}] {r['workload']}: {r['timing']['median_seconds'] * 1000:.1f} ms, {r['tokens_per_second']:.0f} tokens/s, "
                        f"{r['achieved_flops_per_second'] / 1e9:.1f} GFLOP/s = {100 * r['fraction_of_matmul_peak']:.1f}% of matmul peak "
                        f"(executed {100 * r['executed_fraction_of_matmul_peak']:.1f}%), peak RSS {r['peak_rss_bytes'] >> 20} MiB, "
                        f"first call {r['first_call_seconds']:.1f} s")
                rows = throughput_section(size, device, dtype, args.moe_impl, args.attention, mode,
                                          report["matmul_peak"]["flops_per_second"], warmup, repetitions,
                                          log_row)
                target["throughput"] = rows
                save()
        except Exception as e:  # noqa: BLE001 — a failed compile must not lose the eager numbers
            if mode != "compile":
                raise
            target["error"] = f"{type(e).__name__}: {e}"
            report["torch_compile"]["note"] += f"; FAILED: {type(e).__name__}: {str(e)[:300]}"
            traceback.print_exc()
            save()
    save()
    log(f"wrote {os.path.join(out_dir, base)}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
