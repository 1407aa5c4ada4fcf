#!/usr/bin/env bash
# Builds the CPU emulation of the CUDA driver API and cuBLAS (libcuda.so.1, libcublas.so.13) into tools/cuda-emulator/build,
# with IoiBench's kernels (every src/IoiBench/**/*.cu, the shared sae_common.cu first) compiled as C++. Point LD_LIBRARY_PATH there to run the GPU
# code paths and their tests without a GPU (tools/test.sh does).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../../src/IoiBench"
out="$here/build"
mkdir -p "$out"
# The variants' SAE kernels use sae_common.cu's helpers (CudaModule puts it before them for NVRTC): it comes first.
mapfile -t kernels < <(find "$src" -name '*.cu' -not -path '*/bin/*' -not -path '*/obj/*' | sort | awk '/sae_common\.cu$/ {print; next} {rest[++n] = $0} END {for (i = 1; i <= n; i++) print rest[i]}')

# One translation unit: every kernel file, then a table from each extern "C" kernel's name to a launcher.
{
  echo '#include <functional>'
  echo '#include <map>'
  echo '#include <string>'
  echo '#include <utility>'
  echo '#include "cuda_shim.h"'
  echo '#define LATENT_SLOTS 32   // the widest the trainer compiles for; narrower SAEs leave slots empty'
  for f in "${kernels[@]}"; do echo "#include \"$f\""; done
  cat <<'CPP'
using Invoker = std::function<void(void**)>;
template <typename... A, size_t... I> void emu_call(void (*kernel)(A...), void** arguments, std::index_sequence<I...>)
{
    kernel(*static_cast<A*>(arguments[I])...);
}
template <typename... A> Invoker emu_invoker(void (*kernel)(A...))
{
    return [kernel](void** arguments) { emu_call(kernel, arguments, std::index_sequence_for<A...>{}); };
}
const std::map<std::string, Invoker>& emu_kernels()
{
    static const std::map<std::string, Invoker> kernels = {
CPP
  grep -ho 'extern "C" __global__ void [A-Za-z_0-9]*' "${kernels[@]}" | awk '{print "        {\"" $NF "\", emu_invoker(&" $NF ")},"}'
  echo '    };'
  echo '    return kernels;'
  echo '}'
} > "$out/kernels.cpp"

flags=(-std=c++20 -O2 -fPIC -Wall -Wno-unknown-pragmas -I"$here")
g++ "${flags[@]}" -shared -o "$out/libcuda.so.1" "$here/emulator.cpp" "$out/kernels.cpp"
g++ "${flags[@]}" -shared -o "$out/libcublas.so.13" "$here/cublas.cpp"
echo "$out"
