#!/usr/bin/env bash
# Base C of the scaling study on a GPU (issue 13 allows its pretraining there): RUNS.md's command for C on CUDA, then
# the default demo on C and, as the like-for-like reference, on the shipped base B, both on CUDA. Run from the
# project root on a machine with PyTorch (CUDA) and no .NET, with .device-bundle/ (benchmarks/cuda/slim-bundle.sh)
# and .scaling/corpus-full.tar.xz (data/corpus-full as data/scripts/fetch-corpus.sh --pretraining builds it) copied
# there. Writes OUT/results.tgz (logs, metrics, both demos' results) and C's weights in 15 MB parts.
#
#   docs/results/scaling/gpu-session.sh OUT
set -uo pipefail
out=$1
res=/tmp/scaling-session; rm -rf $res /tmp/C /tmp/demo-C /tmp/demo-B; mkdir -p $res "$out"
source benchmarks/cuda/device-env.sh

tar -xJf .scaling/corpus-full.tar.xz
(cd data/corpus-full && sha1sum -c ../scripts/pretraining-corpus.sha1) | tee $res/corpus-check.txt

step pretrain-C 240 "${kit[@]}" pretrain --tokenizer data/base-model --dataset-info data/corpus-full/dataset_info.json \
  --dataset en_pretrain,es_pretrain,zh_pretrain --output /tmp/C --hidden-size 320 --layers 4 --heads 8 --kv-heads 2 \
  --intermediate-size 864 --cutoff-len 128 --batch-size 16 --max-steps 3000 --warmup-steps 100 --lr 3e-3 \
  --logging-steps 250 --seed 42 --device cuda
cp /tmp/C/*.json /tmp/C/*.md $res/ 2>/dev/null; mkdir -p $res/C && cp /tmp/C/metrics.jsonl $res/C/ 2>/dev/null
[ -f /tmp/C/model.safetensors ] && (cd /tmp/C && sha1sum model.safetensors > $res/C/model.sha1 &&
  split -b 15000000 model.safetensors "$out/C-model.safetensors.part-")
step demo-C 120 "${kit[@]}" demo --base-model /tmp/C --device cuda --output /tmp/demo-C
step demo-B 120 "${kit[@]}" demo --device cuda --output /tmp/demo-B
for d in C B; do mkdir -p $res/demo-$d && cp /tmp/demo-$d/results.* $res/demo-$d/ 2>/dev/null; done
tar -C $res -czf "$out/results.tgz" .
cat $res/steps.txt
