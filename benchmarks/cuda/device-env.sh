# Sourced by the GPU-session scripts (benchmarks/cuda/run-session.sh, docs/results/scaling/gpu-session.sh), from the
# project root, with $res (the results folder) and $out (what comes back) set: unpacks .device-bundle/ (../shared/gpu/
# pack, then slim-bundle.sh) once per machine and defines `kit` and `bench` (the published CLI and benchmark, on the
# machine's PyTorch libtorch, which the kit finds by itself) and `step NAME LIMIT COMMAND…`, which runs one step
# under a time limit into $res/NAME.log and packs $res into $out/results.tgz after it, so a cut-off session keeps
# what it finished. A step $res/steps.txt already lists as finished (rc 0) is skipped: a script run again on the same
# machine goes on where it stopped.
B=.device-bundle
[ -x /tmp/dn/dotnet ] || { mkdir -p /tmp/dn && tar -C /tmp/dn -xJf $B/dotnet.tar.xz; }
[ -d /tmp/kit-app/app ] || { mkdir -p /tmp/kit-app && tar -C /tmp/kit-app -xJf $B/app.tar.xz; }
export DOTNET_ROOT=/tmp/dn PATH=/tmp/dn:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
ldconfig -p | grep -q libicuuc || export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
kit=(dotnet /tmp/kit-app/app/MoeLpr.Cli.dll)
bench=(dotnet /tmp/kit-app/app/MoeLpr.Benchmarks.dll)

step() {
  local name=$1 limit=$2; shift 2
  if grep -q "^$name: rc 0," "$res/steps.txt" 2>/dev/null; then echo "$name: finished in an earlier call"; return 0; fi
  local start=$(date +%s)
  timeout "$limit" "$@" > "$res/$name.log" 2>&1
  local rc=$?
  echo "$name: rc $rc, $(( $(date +%s) - start )) s (limit $limit s)" | tee -a "$res/steps.txt"
  tail -n 12 "$res/$name.log"
  tar -C "$res" -czf "$out/results.tgz" .
  return $rc
}
