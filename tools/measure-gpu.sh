#!/usr/bin/env bash
# Runs the GPU measurements of docs/performance.md#gpu on this machine's NVIDIA GPU and writes each command's output
# to a file in OUT (named as in results/gpu-h100/), with the GPU, driver and commands in OUT/machine.txt.
#
#   tools/measure-gpu.sh OUT [STEP...]
#
# Steps (default: all, in this order; the minutes expected on an H100):
#   check        ioibench device: the CUDA chain, and GPU training and forward passes against the CPU's        (< 1)
#   forward      ioibench bench-forward --device cuda, and the same passes in PyTorch, full and started at the
#                last layer                                                                                     (~ 1)
#   torch-sweep  tools/bench_torch_sweep_gpu.py: the makelov2024 SAE sweep in PyTorch, 10 epochs per variant    (~ 1)
#   sweep        ioibench bench-train --preset makelov2024 --device cuda: the whole 2,000-epoch sweep           (~ 10)
#
# IOIBENCH names the ioibench to run (default: ./ioibench, which needs .NET; a self-contained publish runs without it).
# PYTHON names a Python with PyTorch built for CUDA (default: python3); the PyTorch steps are skipped, saying so,
# when it cannot use the GPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ $# -lt 1 ]]; then sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; fi
out="$1"; shift
steps=("$@")
[[ ${#steps[@]} -gt 0 ]] || steps=(check forward torch-sweep sweep)
for step in "${steps[@]}"; do
  case "$step" in check|forward|torch-sweep|sweep) ;; *) echo "measure-gpu: unknown step '$step' (check, forward, torch-sweep, sweep)" >&2; exit 2;; esac
done
ioibench="${IOIBENCH:-$root/ioibench}"
python="${PYTHON:-python3}"
mkdir -p "$out"

# Runs a command with its output shown and kept in OUT/NAME.txt, after a line giving the command.
record() {
  local name="$1"; shift
  echo "== $name: $*" | tee -a "$out/machine.txt"
  if ! { echo "\$ $*"; "$@" 2>&1; } | tee "$out/$name.txt"; then
    echo "measure-gpu: '$name' failed (output in $out/$name.txt); the later steps were not run." >&2
    exit 1
  fi
}

# The PyTorch version when it can use the GPU, else nothing (asked once: importing torch takes seconds).
torch_version="$("$python" -c 'import torch; assert torch.cuda.is_available(); print("pytorch", torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null || true)"

# Says a PyTorch step is skipped, on screen and in OUT/machine.txt.
skipped() {
  echo "$1: skipped: no PyTorch that can use the GPU under $python" | tee -a "$out/machine.txt"
}

{
  date -u +"%Y-%m-%d %H:%M UTC"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not found"
  echo "cpu cores: $(nproc)"
  echo "${torch_version:-pytorch: none that can use the GPU under $python}"
} > "$out/machine.txt"
cat "$out/machine.txt"

cd "$root"
for step in "${steps[@]}"; do
  case "$step" in
    check) record device "$ioibench" device ;;
    forward)
      record bench-forward "$ioibench" bench-forward --device cuda
      if [[ -n "$torch_version" ]]; then
        record torch-forward "$python" tools/bench_torch_forward.py --device cuda --patch --repeats 20
        record torch-forward-started "$python" tools/bench_torch_forward.py --device cuda --patch --repeats 20 --start-layer 11
      else skipped "forward (PyTorch's part)"; fi ;;
    torch-sweep)
      if [[ -n "$torch_version" ]]; then record torch-sweep "$python" tools/bench_torch_sweep_gpu.py --epochs-timed 10
      else skipped torch-sweep; fi ;;
    sweep) record bench-train-makelov2024 "$ioibench" bench-train --preset makelov2024 --device cuda ;;
  esac
done
echo "measure-gpu: wrote $out"
