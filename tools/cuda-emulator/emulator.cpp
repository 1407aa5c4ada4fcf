// A CPU emulation of the parts of the CUDA driver API that IoiBench calls (libcuda.so.1), so that its GPU code paths
// run and are checked on machines without a GPU. Device memory is host memory; modules ignore their PTX and look
// kernels up by name among IoiBench's kernels compiled as C++ (kernels.cpp); a launch runs each block's threads as
// coroutines on one OS thread, switching at barriers and warp shuffles (cuda_shim.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include "cuda_shim.h"

using Invoker = std::function<void(void**)>;
const std::map<std::string, Invoker>& emu_kernels();   // kernels.cpp

EmuDim threadIdx, blockIdx, blockDim, gridDim;

// ---- Coroutines: a minimal x86-64 context switch (callee-saved registers and the stack pointer). ----
extern "C" void emu_switch(void** save_sp, void* load_sp);
asm(R"(
.text
.globl emu_switch
.type emu_switch, @function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
)");

namespace {
constexpr size_t StackBytes = 64 * 1024;
enum class Wait { None, Warp, Block };

struct Thread
{
    std::unique_ptr<char[]> stack{new char[StackBytes]};
    void* sp = nullptr;
    bool done = false;
    Wait wait = Wait::None;
};

std::vector<Thread> threads;
std::vector<uint64_t> slots;
void* scheduler_sp = nullptr;
Thread* current = nullptr;
const Invoker* current_kernel = nullptr;
void** current_arguments = nullptr;

[[noreturn]] void thread_entry()
{
    (*current_kernel)(current_arguments);
    current->done = true;
    void* ignored;
    emu_switch(&ignored, scheduler_sp);
    std::abort();   // a finished thread is never resumed
}

void start(Thread& thread)
{
    // 16-byte aligned, then six zeroed registers for emu_switch to pop and thread_entry as its return address.
    auto top = reinterpret_cast<uintptr_t>(thread.stack.get() + StackBytes) & ~uintptr_t(15);
    auto* sp = reinterpret_cast<void**>(top - 64);
    for (int i = 0; i < 6; i++) sp[i] = nullptr;
    sp[6] = reinterpret_cast<void*>(&thread_entry);
    thread.sp = sp;
    thread.done = false;
    thread.wait = Wait::None;
}

void run_block(unsigned count)
{
    if (threads.size() < count) threads.resize(count);
    slots.assign((count + 31) / 32 * 32, 0);
    for (unsigned t = 0; t < count; t++) start(threads[t]);
    for (;;)
    {
        bool alive = false;
        for (unsigned t = 0; t < count; t++)
        {
            Thread& thread = threads[t];
            if (thread.done || thread.wait != Wait::None) continue;
            threadIdx = {t, 0, 0};
            current = &thread;
            emu_switch(&scheduler_sp, thread.sp);
        }
        // Everyone is finished or waiting: release each warp whose live lanes all wait at a warp barrier, and the block
        // when all its live threads wait at a block barrier.
        bool released = false, all_at_block = true;
        for (unsigned t = 0; t < count; t++)
            if (!threads[t].done)
            {
                alive = true;
                all_at_block &= threads[t].wait == Wait::Block;
            }
        if (!alive) return;
        for (unsigned w = 0; w < count; w += 32)
        {
            bool all_at_warp = true, any = false;
            for (unsigned t = w; t < w + 32 && t < count; t++)
                if (!threads[t].done)
                {
                    any = true;
                    all_at_warp &= threads[t].wait == Wait::Warp;
                }
            if (any && all_at_warp)
            {
                for (unsigned t = w; t < w + 32 && t < count; t++) threads[t].wait = Wait::None;
                released = true;
            }
        }
        if (all_at_block)
        {
            for (unsigned t = 0; t < count; t++) threads[t].wait = Wait::None;
            released = true;
        }
        if (!released)
        {
            std::fprintf(stderr, "CUDA emulator: the threads of a block wait at different barriers (deadlock)\n");
            std::abort();
        }
    }
}
}

void emu_barrier(bool warp_only)
{
    Thread* self = current;
    self->wait = warp_only ? Wait::Warp : Wait::Block;
    emu_switch(&self->sp, scheduler_sp);
    threadIdx = {static_cast<unsigned>(self - threads.data()), 0, 0};
    current = self;
}

uint64_t* emu_warp_slots() { return &slots[threadIdx.x / 32 * 32]; }

// ---- The driver API (CUresult = int; 0 is success). ----
extern "C" {
int cuInit(unsigned) { return 0; }
int cuDriverGetVersion(int* version) { *version = 13000; return 0; }
int cuDeviceGetCount(int* count) { *count = 1; return 0; }
int cuDeviceGet(int* device, int ordinal) { *device = ordinal; return ordinal == 0 ? 0 : 101; }
int cuDeviceGetName(char* name, int length, int)
{
    std::snprintf(name, length, "IoiBench CUDA emulator (CPU)");
    return 0;
}
int cuDeviceTotalMem_v2(size_t* bytes, int) { *bytes = size_t(8) << 30; return 0; }
int cuDeviceGetAttribute(int* value, int attribute, int)
{
    *value = attribute == 75 ? 9 : 0;   // compute capability 9.0
    return 0;
}
int cuDevicePrimaryCtxRetain(void** context, int) { static int primary; *context = &primary; return 0; }
int cuCtxSetCurrent(void*) { return 0; }
int cuCtxSynchronize() { return 0; }
int cuMemGetInfo_v2(size_t* free, size_t* total) { *free = *total = size_t(8) << 30; return 0; }
int cuMemAlloc_v2(uint64_t* pointer, size_t bytes)
{
    void* memory = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    *pointer = reinterpret_cast<uint64_t>(memory);
    return memory ? 0 : 2;
}
int cuMemFree_v2(uint64_t pointer) { std::free(reinterpret_cast<void*>(pointer)); return 0; }
int cuMemcpyHtoD_v2(uint64_t destination, const void* source, size_t bytes)
{
    std::memcpy(reinterpret_cast<void*>(destination), source, bytes);
    return 0;
}
int cuMemcpyDtoH_v2(void* destination, uint64_t source, size_t bytes)
{
    std::memcpy(destination, reinterpret_cast<const void*>(source), bytes);
    return 0;
}
int cuMemsetD8_v2(uint64_t destination, unsigned char value, size_t bytes)
{
    std::memset(reinterpret_cast<void*>(destination), value, bytes);
    return 0;
}
int cuModuleLoadData(void** module, const void*) { static int loaded; *module = &loaded; return 0; }
int cuModuleGetFunction(void** function, void*, const char* name)
{
    auto found = emu_kernels().find(name);
    if (found == emu_kernels().end()) return 500;   // CUDA_ERROR_NOT_FOUND
    *function = const_cast<Invoker*>(&found->second);
    return 0;
}
int cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned, void*,
                   void** arguments, void**)
{
    if (gy != 1 || gz != 1 || by != 1 || bz != 1 || bx == 0 || bx > 1024) return 1;   // IoiBench launches 1-D grids
    current_kernel = static_cast<const Invoker*>(function);
    current_arguments = arguments;
    blockDim = {bx, 1, 1};
    gridDim = {gx, 1, 1};
    for (unsigned b = 0; b < gx; b++)
    {
        blockIdx = {b, 0, 0};
        run_block(bx);
    }
    return 0;
}
int cuGetErrorName(int error, const char** name)
{
    *name = error == 500 ? "CUDA_ERROR_NOT_FOUND" : "CUDA_ERROR (emulator)";
    return 0;
}
}
