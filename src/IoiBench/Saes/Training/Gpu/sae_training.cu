// Kernels of the batched SAE trainer (BatchedSaeTrainer.cs). G SAEs of one variant train in lockstep; every tensor is
// laid out [G, rows, cols], row-major, packed, with SAE g's block at g * rows * cols. Matrix products are cuBLAS's;
// these kernels do the element-wise and reduction work between them. Every sum is taken in a fixed order, so a run
// is deterministic: no atomics on floats.
//
// Row statistics: the kernels that see a whole row of latents or of the residual write one number per (SAE, row)
// into a slot of `stats` ([STAT_SLOTS, G, rows]); accumulate_stats adds them into per-SAE epoch sums (double).
//
// Row kernels (the *_activate kernels, residual, topk_decode, topk_latent_gradients) run one warp per (SAE, row), 8 rows to a
// 256-thread block; lanes take every 32nd column, so reads are coalesced.

#define STAT_SPARSITY 0       // sum of the L1 term's values (vanilla: f; gated: ReLU(gate))
#define STAT_ACTIVE 1         // L0 count (vanilla: f > 0; gated: gate > 0; top-k: z != 0)
#define STAT_RECONSTRUCTION 2 // ||x_hat - x||^2
#define STAT_AUXILIARY 3      // gated: ||ReLU(gate) W_dec + b_dec - x||^2
#define STAT_SLOTS 4
#define NEGATIVE_INFINITY __int_as_float(0xff800000)
#ifndef LATENT_SLOTS
#define LATENT_SLOTS 32       // latents per lane in topk_activate: ceil(d_sae / 32), at most 32 (set at compile time)
#endif

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

// Vanilla: f = ReLU(pre + b_enc) in place; row sums of f and counts of f > 0; fired[g, j] = 1 where f != 0.
extern "C" __global__ void vanilla_activate(float* f, const float* b_enc, float* stats, int* fired, int rows, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows;
    float* values = f + (long long)row * m;
    float sum = 0, active = 0;
    for (int j = lane; j < m; j += 32)
    {
        float v = fmaxf(values[j] + b_enc[(long long)g * m + j], 0.0f);
        values[j] = v;
        sum += v;
        if (v > 0) { active += 1; fired[(long long)g * m + j] = 1; }
    }
    write_sparsity_stats(stats, sum, active, row, rows, g_count, lane);
}

// Gated, from g = (x - b_dec) W_gate: the gate pi = g + b_gate and the magnitude mu = g * exp(r_mag) + b_mag (the
// magnitude path's weights are W_gate with column j scaled by exp(r_mag[j]), so its product is g's column j scaled
// the same way); latents = pi > 0 ? (relu ? max(mu, 0) : mu) : 0 and gate_relu = max(pi, 0) (> 0 exactly where the
// gate is open); row sums of gate_relu, counts of pi > 0; fired where latents != 0.
extern "C" __global__ void gated_activate(const float* gate, const float* b_gate, const float* r_mag, const float* b_mag, float* latents,
                                          float* gate_relu, float* stats, int* fired, int relu, int rows, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows;
    long long base = (long long)row * m;
    float sum = 0, active = 0;
    for (int j = lane; j < m; j += 32)
    {
        long long at = (long long)g * m + j;
        float pre = gate[base + j];
        float pi = pre + b_gate[at];
        float mu = pre * expf(r_mag[at]) + b_mag[at];
        float value = pi > 0 ? (relu ? fmaxf(mu, 0.0f) : mu) : 0.0f;
        latents[base + j] = value;
        if (value != 0) fired[at] = 1;
        float open = fmaxf(pi, 0.0f);
        gate_relu[base + j] = open;
        sum += open;
        if (pi > 0) active += 1;
    }
    write_sparsity_stats(stats, sum, active, row, rows, g_count, lane);
}

// The best of a lane's remaining (not taken) latents: the largest value, ties to the lower latent index.
__device__ __forceinline__ void lane_best(const float (&values)[LATENT_SLOTS], unsigned taken, int lane, float& best, int& index)
{
    best = NEGATIVE_INFINITY;
    index = 0x7fffffff;
#pragma unroll
    for (int t = 0; t < LATENT_SLOTS; t++)
        if (!(taken & (1u << t)) && (index == 0x7fffffff || values[t] > best))
        {
            best = values[t];
            index = t * 32 + lane;
        }
}

// Top-k: z keeps each row's k[g] largest entries of pre (+ b_enc when given), ties to the lower index, then ReLU when
// relu != 0; the rest are 0. Each lane holds its LATENT_SLOTS latents (j = lane, lane + 32, ...) in registers and its
// best remaining one; each of k rounds picks the warp's best of those, and only the winning lane looks again. The
// chosen latents go to selected[g, r, 0..k-1] (a row stride of k_max); counts z != 0 and marks fired latents.
extern "C" __global__ void topk_activate(const float* pre, const float* b_enc, float* z, const int* k_of, int* selected, int k_max,
                                         float* stats, int* fired, int relu, int rows, int m, int g_count)
{
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (warp >= g_count * rows) return;
    int g = warp / rows, k = k_of[g];
    long long base = (long long)warp * m;
    float values[LATENT_SLOTS];
    unsigned taken = 0;
#pragma unroll
    for (int t = 0; t < LATENT_SLOTS; t++)
    {
        int j = t * 32 + lane;
        values[t] = j < m ? pre[base + j] + (b_enc ? b_enc[(long long)g * m + j] : 0.0f) : NEGATIVE_INFINITY;
        if (j < m) z[base + j] = 0.0f;
        else taken |= 1u << t;
    }
    float best;
    int index;
    lane_best(values, taken, lane, best, index);
    float active = 0;
    for (int round = 0; round < k; round++)
    {
        float winner = best;
        int winner_index = index;
        for (int offset = 16; offset > 0; offset /= 2)   // every lane ends with the same winner: the order is total
        {
            float other = __shfl_xor_sync(0xffffffffu, winner, offset);
            int other_index = __shfl_xor_sync(0xffffffffu, winner_index, offset);
            if (other > winner || (other == winner && other_index < winner_index)) { winner = other; winner_index = other_index; }
        }
        if (winner_index % 32 == lane)
        {
            taken |= 1u << (winner_index / 32);
            float value = relu ? fmaxf(winner, 0.0f) : winner;
            z[base + winner_index] = value;
            selected[(long long)warp * k_max + round] = winner_index;
            if (value != 0) { active += 1; fired[(long long)g * m + winner_index] = 1; }
            lane_best(values, taken, lane, best, index);
        }
    }
    active = warp_sum(active);
    if (lane == 0) stats[STAT_ACTIVE * (long long)g_count * rows + warp] = active;
}

// residual = reconstruction + b_dec - x (in place in `reconstruction`); its squared norm into stats[slot]; then the
// residual is scaled by `scale` (2 / rows: the gradient of the batch-mean squared error).
extern "C" __global__ void residual(float* reconstruction, const float* b_dec, const float* x, float* stats, int slot,
                                   float scale, int rows, int d, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows;
    long long base = (long long)row * d;
    float squares = 0;
    for (int c = lane; c < d; c += 32)
    {
        float e = reconstruction[base + c] + b_dec[(long long)g * d + c] - x[base + c];
        squares += e * e;
        reconstruction[base + c] = e * scale;
    }
    squares = warp_sum(squares);
    if (lane == 0) stats[slot * (long long)g_count * rows + row] = squares;
}

// Top-k's decoder from its k chosen latents instead of a dense product over all m: residual = sum_i z_i W_dec[i]
// + b_dec - x, then as `residual` above (squared norm into stats[slot], scaled by `scale`).
extern "C" __global__ void topk_decode(const float* z, const int* selected, const int* k_of, int k_max, const float* w_dec, const float* b_dec,
                                      const float* x, float* out, float* stats, int slot, float scale, int rows, int d, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows, k = k_of[g];
    const int* chosen = selected + (long long)row * k_max;
    float squares = 0;
    for (int c = lane; c < d; c += 32)
    {
        float value = 0;
        for (int i = 0; i < k; i++)
        {
            int j = chosen[i];
            value += z[(long long)row * m + j] * w_dec[((long long)g * m + j) * d + c];
        }
        float e = value + b_dec[(long long)g * d + c] - x[(long long)row * d + c];
        squares += e * e;
        out[(long long)row * d + c] = e * scale;
    }
    squares = warp_sum(squares);
    if (lane == 0) stats[slot * (long long)g_count * rows + row] = squares;
}

// Top-k's gradient with respect to its latents, nonzero only at the kept ones: dz[g, r, j] = residual . W_dec[j] where
// latent j was chosen and z != 0, else 0 (instead of a dense residual . W_dec^T over all m).
extern "C" __global__ void topk_latent_gradients(const float* residual, const float* w_dec, const float* z, const int* selected, const int* k_of,
                                                 int k_max, float* dz, int rows, int d, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows, k = k_of[g];
    long long base = (long long)row * m;
    for (int j = lane; j < m; j += 32) dz[base + j] = 0.0f;
    __syncwarp();
    const int* chosen = selected + (long long)row * k_max;
    for (int i = 0; i < k; i++)
    {
        int j = chosen[i];
        float dot = 0;
        for (int c = lane; c < d; c += 32) dot += residual[(long long)row * d + c] * w_dec[((long long)g * m + j) * d + c];
        dot = warp_sum(dot);
        if (lane == 0 && z[base + j] != 0) dz[base + j] = dot;
    }
}

// Vanilla's backward pass through its ReLU and L1 term, then b_enc's gradient: gradient[g, r, j] = f > 0 ?
// gradient + add[g] * add_scale : 0, and sums[g, j] = the sum over rows of the result. A 256-thread block takes one SAE
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

// Gated's backward pass through both paths, given d_mag = dL/dlatents and d_gate = dL/dReLU(pi) from the auxiliary
// reconstruction: d_mag is kept where the latent passes (relu ? latents > 0 : the gate is open), d_gate where the gate
// is open plus add[g] * add_scale (the L1 term). Both paths read W_gate (the magnitude path scaled by exp(r_mag)), so
// d_gate becomes their combined dL/dg = d_gate + d_mag * exp(r_mag), and the columns give b_mag's, b_gate's and
// r_mag's gradients (exp(r_mag) * sum_r d_mag * g) and the combined sums (for b_dec). Tiled as relu_backward.
extern "C" __global__ void gated_backward(const float* d_mag, float* d_gate, const float* latents, const float* gate_relu, const float* gate,
                                          const float* r_mag, const float* add, float add_scale, int relu, float* b_mag_grad,
                                          float* b_gate_grad, float* r_mag_grad, float* combined_sums, int rows, int m)
{
    __shared__ float partial[4][8][32];
    int tiles = (m + 31) / 32, g = blockIdx.x / tiles, lane = threadIdx.x % 32, j = (blockIdx.x % tiles) * 32 + lane, warp = threadIdx.x / 32;
    float sum_mag = 0, sum_gate = 0, sum_r = 0, sum_combined = 0;
    if (j < m)
    {
        float scale = expf(r_mag[(long long)g * m + j]), extra = add[g] * add_scale;
        long long base = (long long)g * rows * m + j;
#pragma unroll 4
        for (int r = warp; r < rows; r += 8)
        {
            long long at = base + (long long)r * m;
            bool open = gate_relu[at] > 0;
            float dm = (relu ? latents[at] > 0 : open) ? d_mag[at] : 0.0f;
            float dg = open ? d_gate[at] + extra : 0.0f;
            float combined = dg + dm * scale;
            d_gate[at] = combined;
            sum_mag += dm;
            sum_gate += dg;
            sum_r += dm * gate[at];
            sum_combined += combined;
        }
    }
    partial[0][warp][lane] = sum_mag;
    partial[1][warp][lane] = sum_gate;
    partial[2][warp][lane] = sum_r;
    partial[3][warp][lane] = sum_combined;
    __syncthreads();
    if (warp < 4 && j < m)
    {
        float total = 0;
        for (int w = 0; w < 8; w++) total += partial[warp][w][lane];
        long long at = (long long)g * m + j;
        if (warp == 0) b_mag_grad[at] = total;
        else if (warp == 1) b_gate_grad[at] = total;
        else if (warp == 2) r_mag_grad[at] = total * expf(r_mag[at]);
        else combined_sums[at] = total;
    }
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
