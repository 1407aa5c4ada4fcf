// BatchTopK and Matryoshka SAE kernels (BatchTopKStep.cs), after sae_common.cu and topk.cu (AuxK's kernels). Each
// SAE keeps the k * rows largest of its batch's ReLU'd pre-activations, ties to the lower flat index: a radix select on
// the floats' bits (non-negative floats order as their bits do), as BatchSelection.cs does on the CPU. Four passes of
// a 256-bin histogram, a byte at a time from the top, find the threshold bits T and how many values equal to T are
// kept; batchtopk_select keeps those above T and that many of the ties, in flat order. The levels' decoders are
// cuBLAS products on blocks of the latents; the shared residual kernel and add_into build each level's residual.

// values = max(pre + b_enc, +0): the candidates, never -0 (its bits would sort above every positive value).
extern "C" __global__ void batchtopk_values(const float* pre, const float* b_enc, float* values, int rows, int m, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    int j = (int)(i % m);
    long long g = i / m / rows;
    float value = pre[i] + b_enc[g * m + j];
    values[i] = value > 0 ? value : 0.0f;
}

// Before the passes: no digits found yet (prefix 0) and k * rows values to find (all of them when that is more).
extern "C" __global__ void batchtopk_start(const int* k_of, unsigned* prefix, long long* remaining, int* histogram, int rows, int m, int g_count)
{
    int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= g_count) return;
    long long wanted = (long long)k_of[g] * rows, all = (long long)rows * m;
    prefix[g] = 0;
    remaining[g] = wanted < all ? wanted : all;
    for (int d = 0; d < 256; d++) histogram[g * 256 + d] = 0;
}

// One pass: the histogram of byte `shift / 8` of the values whose higher bytes equal the prefix found so far. Blocks
// [g * blocks_per_sae, (g + 1) * blocks_per_sae) take SAE g's rows * m values; integer counts, so the result does not
// depend on the order of the atomics.
extern "C" __global__ void batchtopk_histogram(const float* values, const unsigned* prefix, int shift, int* histogram, long long per_sae,
                                               int blocks_per_sae)
{
    __shared__ int bins[256];
    int g = blockIdx.x / blocks_per_sae, block = blockIdx.x % blocks_per_sae;
    for (int d = threadIdx.x; d < 256; d += blockDim.x) bins[d] = 0;
    __syncthreads();
    unsigned mask = shift == 24 ? 0u : 0xffffffffu << (shift + 8), wanted = prefix[g];
    const float* mine = values + g * per_sae;
    for (long long i = (long long)block * blockDim.x + threadIdx.x; i < per_sae; i += (long long)blocks_per_sae * blockDim.x)
    {
        unsigned bits = __float_as_uint(mine[i]);
        if ((bits & mask) == wanted) atomicAdd(&bins[(bits >> shift) & 255], 1);
    }
    __syncthreads();
    for (int d = threadIdx.x; d < 256; d += blockDim.x)
        if (bins[d]) atomicAdd(&histogram[g * 256 + d], bins[d]);
}

// After a pass: the digit holding the remaining-th largest value, counting down from 255, joins the prefix; the
// counts of the digits above it leave `remaining`. The histogram is cleared for the next pass.
extern "C" __global__ void batchtopk_pick(int* histogram, unsigned* prefix, long long* remaining, int shift, int g_count)
{
    int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= g_count) return;
    int* bins = histogram + g * 256;
    int digit = 255;
    while (digit > 0 && bins[digit] < remaining[g]) remaining[g] -= bins[digit--];
    prefix[g] |= (unsigned)digit << shift;
    for (int d = 0; d < 256; d++) bins[d] = 0;
}

// Each row's count of values equal to the threshold T (the ties).
extern "C" __global__ void batchtopk_ties(const float* values, const unsigned* prefix, int* ties, int rows, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    unsigned threshold = prefix[row / rows];
    const float* mine = values + (long long)row * m;
    int count = 0;
    for (int j = lane; j < m; j += 32) count += __float_as_uint(mine[j]) == threshold;
    count = warp_sum(count);
    if (lane == 0) ties[row] = count;
}

// The selection: a value stays when its bits exceed T, or equal T within the first `remaining` ties in flat order
// (the ties of earlier rows, then of earlier columns); the rest become 0. Counts the kept nonzero values (L0) into
// stats and marks them fired.
extern "C" __global__ void batchtopk_select(float* values, const unsigned* prefix, const long long* remaining, const int* ties, float* stats,
                                            int* fired, int rows, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows, r = row % rows;
    unsigned threshold = prefix[g];
    long long before = 0;
    for (int other = lane; other < r; other += 32) before += ties[g * rows + other];
    before = warp_sum(before);
    before = __shfl_sync(0xffffffffu, before, 0);
    float* mine = values + (long long)row * m;
    float active = 0;
    for (int start = 0; start < m; start += 32)
    {
        int j = start + lane;
        unsigned bits = j < m ? __float_as_uint(mine[j]) : 0u;
        bool tie = j < m && bits == threshold;
        unsigned ballot = __ballot_sync(0xffffffffu, tie);
        long long rank = before + __popc(ballot & ((1u << lane) - 1u));
        if (j < m)
        {
            bool keep = bits > threshold || (tie && rank < remaining[g]);
            if (!keep) mine[j] = 0.0f;
            else if (mine[j] != 0)
            {
                active += 1;
                fired[(long long)g * m + j] = 1;
            }
        }
        before += __popc(ballot);
    }
    active = warp_sum(active);
    if (lane == 0) stats[STAT_ACTIVE * (long long)g_count * rows + row] = active;
}

// into[i] += from[i]: the suffix sums of the levels' residuals (a latent block is read by every level from its own on).
extern "C" __global__ void add_into(float* into, const float* from, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < total) into[i] += from[i];
}
