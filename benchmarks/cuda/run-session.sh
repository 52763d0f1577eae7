#!/usr/bin/env bash
# One GPU session, prepared to fit a short lease: on a machine with PyTorch (CUDA) and no .NET, from the project
# root, with .device-bundle/ from ../shared/gpu/pack copied there. Runs, most important first, each under its own
# time limit: `moelpr doctor`, the PyTorch peer's own checks (seconds, on the CPU), the kit's benchmark (benchmark
# size, bf16, auto = sdpa attention and grouped experts, which it first checks against the loop on the GPU), the
# PyTorch peer of the same configs minutes later (eager; its auto attention is sdpa on CUDA too), demo --quick on
# CUDA, the paper's layer size, the CUDA kernels of one MoE layer (count and GPU time, the peer's profiler), whether
# TorchScript fuses the element-wise chains of a layer on CUDA, the kit and the peer with the per-expert loop, the
# kit with eager attention, then the peer under torch.compile (minutes of compiling), repeats of the kit and the
# eager peer, the paper size under torch.compile and the transformers/PEFT interop check.
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
# It took about 4 minutes on the first H100 and would have taken about 10 on the second, whose host was slower (the
# host-overhead sections a minute each, torch.compile 191 s). On the third a 520 s call (machine start not counted)
# reached the paper-size torch.compile step, 486 s of steps: with a 15-minute lease, give the first call 8–9 minutes
# and the same command, at once, the rest of the lease.
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

step peer-checks 60 python3 benchmarks/pytorch/check_moe_lpr_bench.py
step kit-full 150 "${bench[@]}" --device cuda \
  --sections dispatch-agreement,matmul,moe-layer,throughput,profile,host-overhead \
  --out $res
# libtorch reads PYTORCH_TENSOREXPR once, at its first fusion pass: set in the environment, it turns the fuser off
if python3 benchmarks/cuda/agreement-differs.py $res/benchmark-cuda.json; then
  step kit-agreement-no-fuser 60 env PYTORCH_TENSOREXPR=0 "${bench[@]}" --device cuda --sections dispatch-agreement \
    --tag no-fuser --out $res
fi
step peer-full-grouped-eager 120 "${peer[@]}" --moe-impl grouped-mm --modes eager \
  --sections matmul,moe-layer,throughput,host-overhead
step demo-quick 120 "${kit[@]}" demo --quick --device cuda --output /tmp/demo-cuda
cp /tmp/demo-cuda/results.csv $res/demo-quick-cuda-results.csv 2>/dev/null
step kit-paper 120 "${bench[@]}" --device cuda --size paper --sections dispatch-agreement,matmul,moe-layer,throughput \
  --out $res
step peer-paper-grouped-eager 120 "${peer[@]}" --size paper --moe-impl grouped-mm --modes eager \
  --sections matmul,moe-layer,throughput
# CUDA kernels one MoE layer launches and their GPU time, against a dense MLP's (the peer's ops are the kit's)
for size in full paper; do
  step peer-kernels-$size 60 python3 benchmarks/pytorch/count_moe_ops.py --device cuda --dtype bfloat16 --size $size \
    --tokens 4096 --impls loop,grouped-mm --json $res/moe-layer-kernels-$size.json
done
# Whether TorchScript (the one route to fused kernels TorchSharp offers) fuses the kit's element-wise chains here
step torchscript-fusion 60 python3 benchmarks/pytorch/probe_torchscript_fusion.py --device cuda --dtype bfloat16 \
  --json $res/torchscript-fusion.json
step kit-full-loop 90 "${bench[@]}" --device cuda --moe-dispatch loop --sections matmul,moe-layer,throughput --tag loop \
  --out $res
step peer-full-loop-eager 90 "${peer[@]}" --moe-impl loop --modes eager --sections matmul,moe-layer,throughput
step kit-full-eager-attention 90 "${bench[@]}" --device cuda --attention eager \
  --sections matmul,throughput,profile,host-overhead \
  --tag eager-attention --out $res
# torch.compile late: it spends most of a minute compiling each workload
step peer-full-grouped-compile 240 "${peer[@]}" --moe-impl grouped-mm --modes compile \
  --sections matmul,throughput,host-overhead --tag compile
# The host's step times spread by about ±15 % from run to run: repeats give each ratio its range
for run in 2 3; do
  step kit-full-$run 60 "${bench[@]}" --device cuda --sections moe-layer,throughput --tag run$run --out $res
  step peer-full-grouped-eager-$run 60 "${peer[@]}" --moe-impl grouped-mm --modes eager \
    --sections moe-layer,throughput --tag run$run
done
step peer-paper-grouped-compile 200 "${peer[@]}" --size paper --moe-impl grouped-mm --modes compile \
  --sections matmul,throughput --tag compile
step interop 120 tests/interop/check-with-transformers.sh /tmp/interop dotnet /tmp/kit-app/app/MoeLpr.Cli.dll
cat $res/steps.txt
