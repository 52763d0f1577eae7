#!/usr/bin/env bash
# MoE-LPR stage 2 with the authors' LLaMA-Factory (github.com/zjwang21/MoE-LPR,
# LLaMA-Factory/scripts/stage2.sh), written by `moelpr recipe --stage 2` for the same
# base, data and hyper-parameters as the kit's run. README.md: setup, what differs, and
# bringing the adapter back.
#   LLAMA_FACTORY_DIR=/path/to/MoE-LPR/LLaMA-Factory bash stage2.sh
set -euo pipefail
RECIPE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LLAMA_FACTORY_DIR="${LLAMA_FACTORY_DIR:?set LLAMA_FACTORY_DIR to your MoE-LPR/LLaMA-Factory checkout}"
MODEL_PATH="${MODEL_PATH:-{ROOT}/base}"
STAGE1_PATH="${STAGE1_PATH:-{ROOT}/stage1}"
DATASET_DIR="${DATASET_DIR:-$RECIPE_DIR/data}"
OUTPUT_DIR="${OUTPUT_DIR:-$RECIPE_DIR/stage2}"
NUM_GPUS="${NUM_GPUS:-1}"
MASTER_PORT="${MASTER_PORT:-9902}"

# The dataset files must sit next to dataset_info.json (README.md has the copy commands).
for file in 'new.jsonl' 'old.jsonl'; do
  if [ ! -f "$DATASET_DIR/$file" ]; then
    echo "error: $DATASET_DIR/$file: dataset file not found (copy it there, see README.md)" >&2
    exit 1
  fi
done

export WANDB_DISABLED=true
cd "$LLAMA_FACTORY_DIR"
deepspeed --num_gpus "$NUM_GPUS" --master_port="$MASTER_PORT" src/train_bash.py \
    --deepspeed "$RECIPE_DIR/ds_config.json" \
    --stage pt \
    --do_train \
    --model_name_or_path "$MODEL_PATH" \
    --adapter_name_or_path "$STAGE1_PATH" \
    --finetuning_type moe \
    --lpr_loss_coef 0.1 \
    --train_only_router \
    --generate_lang_mask \
    --dataset_dir "$DATASET_DIR" \
    --dataset new_text,old_text \
    --max_samples 8 \
    --preprocessing_num_workers 16 \
    --cutoff_len 32 \
    --output_dir "$OUTPUT_DIR" \
    --overwrite_output_dir \
    --per_device_train_batch_size 4 \
    --gradient_accumulation_steps 8 \
    --lr_scheduler_type cosine \
    --warmup_steps 0 \
    --learning_rate 5E-05 \
    --num_train_epochs 1.0 \
    --max_grad_norm 1.0 \
    --logging_steps 10 \
    --save_strategy no \
    --save_only_model \
    --seed 3 \
    --plot_loss
