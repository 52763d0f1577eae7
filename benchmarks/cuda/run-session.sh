#!/usr/bin/env bash
# One GPU session, prepared to fit a short lease: on a machine with PyTorch (CUDA) and no .NET, from the project
# root, with .device-bundle/ from ../shared/gpu/pack copied there. Runs, most important first, each under its own
# time limit: `moelpr doctor`, the CUDAGraph symbols of the machine's libtorch, the PyTorch peer's own checks (seconds,
# on the CPU), training replayed from CUDA graphs against training as issued and the grouped experts against the
# loop, the kit's benchmark (benchmark size, bf16, sdpa attention and grouped experts) with and without CUDA graphs,
# the PyTorch peer of the same configs minutes later (eager, and eager with the same graphs), `moelpr train` stage 1
# and 2 on the shipped data with and without --cuda-graphs, demo --quick on CUDA, the peer under torch.compile
# (minutes of compiling), the paper's layer size, repeats, the paper size under torch.compile and the
# transformers/PEFT interop check.
# Every step's log and reports land in RESULTS_DIR, packed into OUT/results.tgz after each step, so a cut-off run
# keeps what it finished. Run again on the same (still warm) machine, it goes on: the steps that finished are skipped.
# Where the grouped experts differ from the loop, it also runs that check with TorchScript's fuser off, to tell
# whether fused kernels make the difference.
#
#   benchmarks/cuda/run-session.sh OUT
#
# Getting there from the development machine, whose device calls carry at most 64 MiB (tracked tree 47 MB, of which
# notebooks/executed 19 MB; the slimmed bundle 31 MB):
#   bash ../shared/gpu/pack && bash benchmarks/cuda/slim-bundle.sh
#   mkdir -p /tmp/executed-hold && mv notebooks/executed/*.ipynb /tmp/executed-hold/   # put back after the call
#   device run, carry .device-bundle: bash benchmarks/cuda/run-session.sh "$OUT"
# On the fourth H100 session a 500 s first call (machine start not counted) reached the paper-size graphed peer, and a
# second call of 224 s ran the rest (torch.compile 191 s and 86 s of it): with a 15-minute lease, give the first call
# 8–9 minutes and the same command, at once, the rest of the lease.
# Rehearsed on the CPU by sourcing device-env.sh with --libtorch at the NuGet CPU libtorch (the bundle's stock
# libLibTorchSharp.so needs a newer libstdc++ than Debian 12's: copy the build's patched one over it for that).
set -uo pipefail
out=$1
res=/tmp/cuda-session; mkdir -p $res "$out"   # kept on the machine: a second call goes on from the first
source benchmarks/cuda/device-env.sh
echo "# call started $(date -u +%H:%M:%S)" >> $res/steps.txt
peer=(python3 benchmarks/pytorch/moe_lpr_bench.py --device cuda --out $res)

{ nvidia-smi -L; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c "import torch; print('PyTorch', torch.__version__, 'CUDA', torch.version.cuda)"; } | tee $res/machine.txt
# The kit finds the installed PyTorch's libtorch by itself (no LD_LIBRARY_PATH): doctor shows which it loaded.
if ! step doctor 60 "${kit[@]}" doctor; then
  echo "doctor failed: the rest runs with the PyTorch libtorch on LD_LIBRARY_PATH" | tee -a $res/steps.txt
  export LD_LIBRARY_PATH=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")/lib
fi

# The C++ functions of libtorch's CUDAGraph the kit calls by name (Devices/CudaGraph.cs), as this libtorch exports them
lib=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")/lib
nm -D --defined-only "$lib/libtorch_cuda.so" "$lib/libc10_cuda.so" 2>&1 \
  | grep -E 'CUDAGraph(C1|D1|13capture_begin|11capture_end|6replay)|getStreamFromPool|etCurrentCUDAStream' \
  | tee $res/graph-symbols.txt
step peer-checks 60 python3 benchmarks/pytorch/check_moe_lpr_bench.py
# Training replayed from CUDA graphs against training as issued, and the grouped experts against the loop
step kit-agreement 120 "${bench[@]}" --device cuda --sections graph-agreement,dispatch-agreement --tag agreement \
  --out $res
# libtorch reads PYTORCH_TENSOREXPR once, at its first fusion pass: set in the environment, it turns the fuser off
if python3 benchmarks/cuda/agreement-differs.py $res/benchmark-cuda-agreement.json; then
  step kit-agreement-no-fuser 60 env PYTORCH_TENSOREXPR=0 "${bench[@]}" --device cuda --sections dispatch-agreement \
    --tag no-fuser --out $res
fi
step kit-full-graphs 90 "${bench[@]}" --device cuda --cuda-graphs --sections matmul,throughput --tag graphs --out $res
step kit-full 120 "${bench[@]}" --device cuda --sections matmul,moe-layer,throughput,host-overhead --out $res
step peer-full-grouped-eager 120 "${peer[@]}" --moe-impl grouped-mm --modes eager \
  --sections matmul,moe-layer,throughput,host-overhead
step peer-full-grouped-graphs 90 "${peer[@]}" --moe-impl grouped-mm --modes eager-graphs --sections matmul,throughput \
  --tag graphs
# A user's run: moelpr train on the shipped data, stage 1 then stage 2, as issued and with --cuda-graphs. Batches of
# 16 blocks, two per step, run past the end of an epoch, whose shorter micro-batch takes another graph or none.
train=("${kit[@]}" train --model data/base-model --device cuda --dtype bfloat16 --cutoff_len 128 --batch-size 16
       --grad-accum 2 --logging-steps 2)
s1=(--stage 1 --dataset el_train,hu_train,tr_train --max_samples 23 --lr 1e-3 --max-steps 40)
s2=(--stage 2 --adapter /tmp/train-s1-eager --dataset el_train,hu_train,tr_train,en_train,es_train,zh_train
    --max_samples 8 --lr 5e-3 --max-steps 20)
step train-s1-eager 120 "${train[@]}" "${s1[@]}" --output /tmp/train-s1-eager
step train-s1-graphs 120 "${train[@]}" "${s1[@]}" --cuda-graphs --output /tmp/train-s1-graphs
step train-s2-eager 120 "${train[@]}" "${s2[@]}" --output /tmp/train-s2-eager
step train-s2-graphs 120 "${train[@]}" "${s2[@]}" --cuda-graphs --output /tmp/train-s2-graphs
for stage in s1 s2; do
  step compare-train-$stage 30 python3 benchmarks/cuda/compare-metrics.py /tmp/train-$stage-eager/metrics.jsonl \
    /tmp/train-$stage-graphs/metrics.jsonl
done
step demo-quick 120 "${kit[@]}" demo --quick --device cuda --output /tmp/demo-cuda
cp /tmp/demo-cuda/results.csv $res/demo-quick-cuda-results.csv 2>/dev/null
# torch.compile: it spends most of a minute compiling each workload
step peer-full-grouped-compile 240 "${peer[@]}" --moe-impl grouped-mm --modes compile \
  --sections matmul,throughput,host-overhead --tag compile
step kit-paper-graphs 90 "${bench[@]}" --device cuda --size paper --cuda-graphs --sections matmul,throughput \
  --tag graphs --out $res
step kit-paper 120 "${bench[@]}" --device cuda --size paper --sections dispatch-agreement,matmul,moe-layer,throughput \
  --out $res
step peer-paper-grouped-eager 120 "${peer[@]}" --size paper --moe-impl grouped-mm --modes eager \
  --sections matmul,moe-layer,throughput
step peer-paper-grouped-graphs 90 "${peer[@]}" --size paper --moe-impl grouped-mm --modes eager-graphs \
  --sections matmul,throughput --tag graphs
# The host's step times spread by about ±15 % from run to run: a repeat gives each ratio a range
step kit-full-graphs-2 60 "${bench[@]}" --device cuda --cuda-graphs --sections matmul,throughput --tag graphs-run2 \
  --out $res
step kit-full-2 60 "${bench[@]}" --device cuda --sections moe-layer,throughput --tag run2 --out $res
step peer-full-grouped-eager-2 60 "${peer[@]}" --moe-impl grouped-mm --modes eager --sections moe-layer,throughput \
  --tag run2
step peer-full-grouped-graphs-2 60 "${peer[@]}" --moe-impl grouped-mm --modes eager-graphs --sections throughput \
  --tag graphs-run2
step peer-paper-grouped-compile 200 "${peer[@]}" --size paper --moe-impl grouped-mm --modes compile \
  --sections matmul,throughput --tag compile
step interop 120 tests/interop/check-with-transformers.sh /tmp/interop dotnet /tmp/kit-app/app/MoeLpr.Cli.dll
cat $res/steps.txt
