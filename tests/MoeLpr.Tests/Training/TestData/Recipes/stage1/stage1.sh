#!/usr/bin/env bash
# MoE-LPR stage 1 with the authors' LLaMA-Factory (github.com/zjwang21/MoE-LPR,
# LLaMA-Factory/scripts/stage1.sh), written by `moelpr recipe --stage 1` for the same
# base, data and hyper-parameters as the kit's run. README.md: setup, what differs, and
# bringing the adapter back.
#   LLAMA_FACTORY_DIR=/path/to/MoE-LPR/LLaMA-Factory bash stage1.sh
set -euo pipefail
RECIPE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LLAMA_FACTORY_DIR="${LLAMA_FACTORY_DIR:?set LLAMA_FACTORY_DIR to your MoE-LPR/LLaMA-Factory checkout}"
MODEL_PATH="${MODEL_PATH:-{ROOT}/base}"
DATASET_DIR="${DATASET_DIR:-$RECIPE_DIR/data}"
OUTPUT_DIR="${OUTPUT_DIR:-$RECIPE_DIR/stage1}"
NUM_GPUS="${NUM_GPUS:-4}"
MASTER_PORT="${MASTER_PORT:-9902}"

# The dataset files must sit next to dataset_info.json (README.md has the copy commands).
for file in 'new.jsonl'; do
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
    --finetuning_type moe \
    --moe_num_experts 3 \
    --topk 2 \
    --aux_loss_coef 0.01 \
    --dataset_dir "$DATASET_DIR" \
    --dataset new_text \
    --preprocessing_num_workers 16 \
    --cutoff_len 32 \
    --output_dir "$OUTPUT_DIR" \
    --overwrite_output_dir \
    --per_device_train_batch_size 2 \
    --gradient_accumulation_steps 4 \
    --lr_scheduler_type cosine \
    --warmup_steps 0 \
    --learning_rate 5E-05 \
    --max_steps 100 \
    --max_grad_norm 1.0 \
    --logging_steps 10 \
    --save_steps 50 \
    --save_only_model \
    --seed 42 \
    --bf16 \
    --plot_loss
