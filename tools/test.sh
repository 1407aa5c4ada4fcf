#!/usr/bin/env bash
# Installs what the tests need (OpenBLAS and g++ from Debian, GPT-2's vocabulary from npm), then runs every test.
# Without a GPU, the GPU tests then run a second time against the CPU emulation of CUDA (tools/cuda-emulator).
# Extra arguments go to the first `dotnet test` (e.g. --filter Gpt2ForwardTests) and skip the second pass.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

missing=()
ldconfig -p | grep -q 'libopenblas\.so\.0' || missing+=(libopenblas0-pthread)
command -v g++ >/dev/null || missing+=(g++)
if (( ${#missing[@]} )); then
  sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "Installing ${missing[*]}..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
bash tools/fetch-gpt2-vocab.sh

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test IoiBench.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The GPU code paths once more, on the CPU emulation of the CUDA driver and cuBLAS: the [GpuFact] tests run there.
if (( $# == 0 )) && ! ldconfig -p | grep -q 'libcuda\.so\.1'; then
  emulator="$(bash tools/cuda-emulator/build.sh)" || status=1
  LD_LIBRARY_PATH="$emulator${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    dotnet test tests/IoiBench.Tests -c Release --no-build --filter "FullyQualifiedName~IoiBench.Tests.Gpu" 2>&1 | tee -a "$log"
  (( PIPESTATUS[0] == 0 )) || status=1
fi
set -e
# One plain summary line per pass: "N passed, N failed".
grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log" | while read -r summary; do
  failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
  echo "$passed passed, $failed failed"
done
exit "$status"
