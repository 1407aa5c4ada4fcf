// Device-side CUDA for the CPU emulator: IoiBench's kernels (every src/IoiBench/**/*.cu) compile as C++ with this
// header. Threads of a block run as coroutines on one OS thread (emulator.cpp); barriers and warp shuffles switch
// between them, so warp-synchronous code runs with CUDA's semantics for full warps.
#pragma once
#include <math.h>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static   // blocks run one after another, so one copy serves every block

struct EmuDim { unsigned x, y, z; };
extern EmuDim threadIdx, blockIdx, blockDim, gridDim;

void emu_barrier(bool warp_only);
uint64_t* emu_warp_slots();   // 32 exchange slots of the calling thread's warp

inline void __syncthreads() { emu_barrier(false); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu_barrier(true); }

// Every lane stores its value, the warp meets, each reads its source lane's slot, and the warp meets again before
// the slots can be reused.
template <typename T> T emu_exchange(T value, int source)
{
    int lane = threadIdx.x % 32;
    uint64_t* slots = emu_warp_slots();
    std::memcpy(&slots[lane], &value, sizeof(T));
    emu_barrier(true);
    T result = value;
    if (source >= 0 && source < 32) std::memcpy(&result, &slots[source], sizeof(T));
    emu_barrier(true);
    return result;
}

template <typename T> T __shfl_sync(unsigned, T value, int lane) { return emu_exchange(value, lane); }
template <typename T> T __shfl_xor_sync(unsigned, T value, int mask) { return emu_exchange(value, (int)(threadIdx.x % 32) ^ mask); }
template <typename T> T __shfl_down_sync(unsigned, T value, int offset)
{
    int source = (int)(threadIdx.x % 32) + offset;
    return emu_exchange(value, source < 32 ? source : (int)(threadIdx.x % 32));
}

// Every lane's predicate as a bit of the result, lane i at bit i.
inline unsigned __ballot_sync(unsigned, int predicate)
{
    uint64_t* slots = emu_warp_slots();
    slots[threadIdx.x % 32] = predicate ? 1 : 0;
    emu_barrier(true);
    unsigned bits = 0;
    for (int lane = 0; lane < 32; lane++) bits |= (unsigned)slots[lane] << lane;
    emu_barrier(true);
    return bits;
}

inline int __popc(unsigned bits) { return __builtin_popcount(bits); }

// Threads run one at a time, so an atomic is a plain read-modify-write.
inline int atomicAdd(int* address, int value)
{
    int old = *address;
    *address = old + value;
    return old;
}

inline unsigned __float_as_uint(float value)
{
    unsigned bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

inline float __int_as_float(int bits)
{
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}
// expf, fmaxf and sqrtf come from <math.h>, as in CUDA.
