#!/usr/bin/env bash
# The test command. It installs what the tests need, then runs every test:
# - OpenBLAS (matrix products), g++ (builds the CPU emulation of CUDA), NVRTC (compiles the CUDA kernels; Debian ships
#   it in the non-free component, which is added as an apt source if the machine lacks it) and Chromium (renders
#   report.html), all from Debian's packages;
# - `dotnet test` over the whole solution;
# - without a GPU, the GPU tests a second time against the CPU emulation of CUDA (tools/cuda-emulator).
# Whatever cannot be installed makes the tests that need it skip, each saying why; nothing else depends on it.
# Extra arguments go to the first `dotnet test` (e.g. --filter Gpt2ForwardTests) and skip the second pass.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"
apt_install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null; }

if command -v apt-get >/dev/null; then
  missing=()
  ldconfig -p | grep -q 'libopenblas\.so\.0' || missing+=(libopenblas0-pthread)
  command -v g++ >/dev/null || missing+=(g++)
  command -v chromium >/dev/null || missing+=(chromium)
  ldconfig -p | grep -q 'libnvrtc\.so' || missing+=(libnvrtc11.2)
  if (( ${#missing[@]} )); then
    echo "Installing ${missing[*]}..."
    if [[ " ${missing[*]} " == *" libnvrtc11.2 "* && -d /etc/apt/sources.list.d ]] \
       && ! grep -rqs 'non-free' /etc/apt/sources.list /etc/apt/sources.list.d; then
      codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: non-free\nSigned-By: %s\n' \
        "$codename" /usr/share/keyrings/debian-archive-keyring.gpg | $sudo tee /etc/apt/sources.list.d/ioibench-non-free.sources >/dev/null
    fi
    $sudo apt-get update -qq || echo "apt-get update failed; installing from the package lists at hand."
    # One package at a time, so that one that cannot be had leaves the others installed.
    for package in "${missing[@]}"; do
      apt_install "$package" || echo "Could not install $package; the tests that need it will be skipped."
    done
  fi
else
  echo "No apt-get here: install OpenBLAS, g++, NVRTC and Chromium yourself, or the tests that need them are skipped."
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test IoiBench.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The GPU code paths once more, on the CPU emulation of the CUDA driver and cuBLAS: the [GpuFact] tests run there.
if (( $# == 0 )) && ! ldconfig -p | grep -q 'libcuda\.so\.1'; then
  if emulator="$(bash tools/cuda-emulator/build.sh)"; then
    LD_LIBRARY_PATH="$emulator${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      dotnet test tests/IoiBench.Tests -c Release --no-build --filter "FullyQualifiedName~IoiBench.Tests.Gpu" 2>&1 | tee -a "$log"
    (( PIPESTATUS[0] == 0 )) || status=1
  else
    echo "The CPU emulation of CUDA did not build; the emulated GPU pass is skipped."
  fi
fi
set -e
# One plain summary line per pass: "N passed, N failed, N skipped".
grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | while read -r summary; do
  sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 passed, \1 failed, \3 skipped/' <<<"$summary"
done
exit "$status"
