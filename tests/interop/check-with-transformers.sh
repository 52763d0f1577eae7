#!/usr/bin/env bash
# Loads the kit's checkpoints with HuggingFace transformers and PEFT and compares their logits with the kit's own
# (`moelpr inspect`): the dense base as LlamaForCausalLM, a stage-1 MoE exported to Mixtral as MixtralForCausalLM
# (router logits too), and a LoRA adapter through PeftModel. Needs python3 with torch, transformers and peft.
#
#   tests/interop/check-with-transformers.sh WORKDIR MOELPR-COMMAND...
#   tests/interop/check-with-transformers.sh /tmp/interop dotnet run -c Release --project src/MoeLpr.Cli --
#
# Stage 1 and LoRA train briefly at a high learning rate so that the experts differ from each other and the LoRA
# update is far from zero: a loader that mixed up experts or dropped the LoRA scale would then show.
set -euo pipefail
work=$1; shift
moelpr=("$@")
mkdir -p "$work"
ids=4,731,12,2048,96,1500,7,333,3001,58,911,2600,140,77,3999,250,1024,61,805,2222,19,640,3500,42
common=(--dataset el_train --cutoff-len 64 --max-steps 20 --lr 1e-2 --device cpu --logging-steps 10)

"${moelpr[@]}" train --stage 1 --model data/base-model --output "$work/stage1" "${common[@]}"
"${moelpr[@]}" export --model data/base-model --adapter "$work/stage1" --output "$work/mixtral"
"${moelpr[@]}" train --stage lora --model data/base-model --output "$work/lora" "${common[@]}"

"${moelpr[@]}" inspect --model data/base-model --ids $ids --out "$work/kit-dense.safetensors"
"${moelpr[@]}" inspect --model data/base-model --adapter "$work/stage1" --ids $ids --out "$work/kit-moe.safetensors"
"${moelpr[@]}" inspect --model "$work/mixtral" --ids $ids --out "$work/kit-mixtral.safetensors"
"${moelpr[@]}" inspect --model data/base-model --adapter "$work/lora" --ids $ids --out "$work/kit-lora.safetensors"

python3 "$(dirname "$0")/check_transformers.py" --ids $ids --work "$work" --base data/base-model
