#!/usr/bin/env python3
"""Compares the kit's logits (``moelpr inspect``) with HuggingFace transformers and PEFT on the same checkpoints.

Run by check-with-transformers.sh, which writes WORK/{stage1,mixtral,lora} and WORK/kit-*.safetensors first.
Everything runs in float32 on the CPU with eager attention, so the only differences are summation orders: the
tolerance is that of float32 arithmetic over these depths, and the largest difference is printed either way.
Exit code 1 when any comparison fails.
"""
import argparse
import sys

import torch
from safetensors.torch import load_file

ATOL, RTOL = 1e-4, 1e-4


def load(model_class, folder):
    return model_class.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()


def compare(what, kit, theirs):
    kit, theirs = kit.double(), theirs.double()
    diff = (kit - theirs).abs().max().item()
    ok = kit.shape == theirs.shape and torch.allclose(kit, theirs, rtol=RTOL, atol=ATOL)
    print(f"{'ok  ' if ok else 'FAIL'} {what}: shape {tuple(kit.shape)}, max |kit - transformers| = {diff:.2e}, "
          f"max |kit| = {kit.abs().max().item():.2f}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--base", required=True)
    args = ap.parse_args()

    import peft
    import transformers
    from peft import PeftModel
    from transformers import LlamaForCausalLM, MixtralForCausalLM

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}")
    ids = torch.tensor([[int(i) for i in args.ids.split(",")]])
    kit = {name: load_file(f"{args.work}/kit-{name}.safetensors") for name in ("dense", "moe", "mixtral", "lora")}
    results = []
    with torch.no_grad():
        dense = load(LlamaForCausalLM, args.base)
        results.append(compare("dense base, LlamaForCausalLM logits", kit["dense"]["logits"], dense(ids).logits[0]))

        lora = PeftModel.from_pretrained(dense, f"{args.work}/lora").eval()
        lora_logits = lora(ids).logits[0]
        results.append(compare("LoRA adapter, PeftModel logits", kit["lora"]["logits"], lora_logits))
        moved = (lora_logits - kit["dense"]["logits"]).abs().max().item()
        print(f"     (the LoRA update moves the logits by up to {moved:.2f})")

        mixtral = load(MixtralForCausalLM, f"{args.work}/mixtral")
        out = mixtral(ids, output_router_logits=True)
        results.append(compare("Mixtral export, MixtralForCausalLM logits", kit["mixtral"]["logits"], out.logits[0]))
        results.append(compare("Mixtral export, router logits (every layer)", kit["mixtral"]["router_logits"],
                               torch.stack([r.reshape(ids.shape[1], -1) for r in out.router_logits])))
        results.append(compare("stage-1 adapter in the kit = its Mixtral export in transformers",
                               kit["moe"]["logits"], out.logits[0]))
        moved = (out.logits[0] - kit["dense"]["logits"]).abs().max().item()
        print(f"     (stage 1 moves the logits from the dense model's by up to {moved:.2f})")
    print("all match" if all(results) else "MISMATCH")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
