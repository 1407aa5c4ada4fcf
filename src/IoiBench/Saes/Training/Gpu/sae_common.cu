// The kernels every variant's GPU step shares (BatchedSaeTrainer.cs); a variant's own kernels (Saes/Variants/*/*.cu) are
// compiled after these, in one module. G SAEs of one variant train in lockstep; every tensor is laid out
// [G, rows, cols], row-major, packed, with SAE g's block at g * rows * cols. Matrix products are cuBLAS's; the kernels
// do the element-wise and reduction work between them. Every sum is taken in a fixed order, so a run is
// deterministic: no atomics on floats.
//
// Row statistics: the kernels that see a whole row of latents or of the residual write one number per (SAE, row)
// into a slot of `stats` ([STAT_SLOTS, G, rows]); accumulate_stats adds them into per-SAE epoch sums (double).
//
// Row kernels (residual here, the variants' *_activate kernels) run one warp per (SAE, row), 8 rows to a 256-thread
// block; lanes take every 32nd column, so reads are coalesced.

#define STAT_SPARSITY 0       // the sparsity term's sum (vanilla: f; gated: ReLU(gate); JumpReLU: the L0 count)
#define STAT_ACTIVE 1         // L0 count (latents != 0, or the variant's own notion of active)
#define STAT_RECONSTRUCTION 2 // ||x_hat - x||^2
#define STAT_AUXILIARY 3      // an auxiliary term (gated: ||ReLU(gate) W_dec + b_dec - x||^2; AuxK; Matryoshka's inner levels)
#define STAT_SLOTS 4
#define NEGATIVE_INFINITY __int_as_float(0xff800000)

// The sum of a warp's 32 values in a fixed tree order, in lane 0.
template <typename T> __device__ T warp_sum(T value)
{
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
    return value;
}

// x[g, r, :] = data[node_of[g], order[node_of[g], start + r], :]: each SAE's batch, from its node's shuffled rows.
extern "C" __global__ void gather_batch(const float* data, const int* order, const int* node_of, float* x,
                                        int examples, int start, int rows, int d, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    int c = (int)(i % d);
    long long gr = i / d;
    int r = (int)(gr % rows), g = (int)(gr / rows);
    int node = node_of[g];
    int example = order[(long long)node * examples + start + r];
    x[i] = data[((long long)node * examples + example) * d + c];
}

// out[g, r, c] = x[g, r, c] - bias[g, c].
extern "C" __global__ void subtract_bias(const float* x, const float* bias, float* out, int rows, int cols, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    int c = (int)(i % cols);
    long long g = i / cols / rows;
    out[i] = x[i] - bias[g * cols + c];
}

// A row's L1 sum and L0 count, summed over the warp, into their stats slots.
__device__ void write_sparsity_stats(float* stats, float sum, float active, int row, int rows, int g_count, int lane)
{
    long long slot = (long long)g_count * rows;
    sum = warp_sum(sum);
    active = warp_sum(active);
    if (lane == 0)
    {
        stats[STAT_SPARSITY * slot + row] = sum;
        stats[STAT_ACTIVE * slot + row] = active;
    }
}

// residual = (prediction + b_dec - x) * scale, with scale = 2 / rows (the gradient of the batch-mean squared error);
// `residual` may be `prediction` itself (in place). The unscaled residual's squared norm goes into stats[slot], or is
// added to it with `accumulate` (Matryoshka's inner levels share the auxiliary slot).
extern "C" __global__ void residual(const float* prediction, const float* b_dec, const float* x, float* residual, float* stats,
                                   int slot, float scale, int rows, int d, int g_count, int accumulate)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows;
    long long base = (long long)row * d;
    float squares = 0;
    for (int c = lane; c < d; c += 32)
    {
        float e = prediction[base + c] + b_dec[(long long)g * d + c] - x[base + c];
        squares += e * e;
        residual[base + c] = e * scale;
    }
    squares = warp_sum(squares);
    long long at = slot * (long long)g_count * rows + row;
    if (lane == 0) stats[at] = accumulate ? stats[at] + squares : squares;
}

// out[g, c] = sum over r of src[g, r, c], rows in order. One thread per (SAE, column).
extern "C" __global__ void column_sums(const float* src, float* out, int rows, int cols, int g_count)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= (long long)g_count * cols) return;
    int c = (int)(i % cols);
    long long g = i / cols;
    const float* column = src + g * rows * cols + c;
    float sum = 0;
    for (int r = 0; r < rows; r++) sum += column[(long long)r * cols];
    out[i] = sum;
}

// Rows of W_dec ([G * m, d]) rescaled to unit L2 norm; one warp per row.
extern "C" __global__ void normalise_rows(float* w, int d, long long row_count)
{
    long long row = (blockIdx.x * (long long)blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (row >= row_count) return;
    float* values = w + row * d;
    float squares = 0;
    for (int c = lane; c < d; c += 32) squares += values[c] * values[c];
    for (int offset = 16; offset > 0; offset /= 2) squares += __shfl_xor_sync(0xffffffffu, squares, offset);
    float norm = sqrtf(squares);
    if (norm > 0)
        for (int c = lane; c < d; c += 32) values[c] /= norm;
}

// Adam without weight decay over one parameter's block [G, size] (every SAE's copy, one after another), each SAE at its
// own learning rate rates[g]: correction1 = 1 - beta1^t, correction2 = 1 - beta2^t.
extern "C" __global__ void adam(float* p, const float* grad, float* m, float* v, const float* rates, long long size, float beta1, float beta2,
                                float epsilon, float correction1, float correction2, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    float rate = rates[i / size];
    float g = grad[i];
    float first = beta1 * m[i] + (1 - beta1) * g;
    float second = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = first;
    v[i] = second;
    p[i] -= rate * (first / correction1) / (sqrtf(second / correction2) + epsilon);
}

// sums[g, s] += sum over rows of stats[s, g, :]: one warp per (SAE, slot), lanes over every 32nd row, a fixed order.
extern "C" __global__ void accumulate_stats(const float* stats, double* sums, int rows, int g_count)
{
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (warp >= g_count * STAT_SLOTS) return;
    int g = warp / STAT_SLOTS, s = warp % STAT_SLOTS;
    const float* row = stats + ((long long)s * g_count + g) * rows;
    double sum = 0;
    for (int r = lane; r < rows; r += 32) sum += row[r];
    sum = warp_sum(sum);
    if (lane == 0) sums[warp] += sum;
}

// The backward pass through a ReLU (or any selection whose kept latents are positive) plus an L1 term, then the
// column sums (b_enc's gradient): gradient[g, r, j] = f > 0 ? gradient + add[g] * add_scale : 0, and sums[g, j] = the
// sum over rows of the result. A 256-thread block takes one SAE
// and 32 latents: lane = latent, warp w sums rows w, w + 8, ..., and the 8 partial sums are added in warp order.
extern "C" __global__ void relu_backward(float* gradient, const float* f, const float* add, float add_scale, float* sums, int rows, int m)
{
    __shared__ float partial[8][32];
    int tiles = (m + 31) / 32, g = blockIdx.x / tiles, lane = threadIdx.x % 32, j = (blockIdx.x % tiles) * 32 + lane, warp = threadIdx.x / 32;
    float sum = 0;
    if (j < m)
    {
        float extra = add[g] * add_scale;
        long long base = (long long)g * rows * m + j;
#pragma unroll 4
        for (int r = warp; r < rows; r += 8)
        {
            long long at = base + (long long)r * m;
            float value = f[at] > 0 ? gradient[at] + extra : 0.0f;
            gradient[at] = value;
            sum += value;
        }
    }
    partial[warp][lane] = sum;
    __syncthreads();
    if (warp == 0 && j < m)
    {
        float total = 0;
        for (int w = 0; w < 8; w++) total += partial[w][lane];
        sums[(long long)g * m + j] = total;
    }
}
