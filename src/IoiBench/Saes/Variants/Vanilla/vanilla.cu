// Vanilla SAE kernels (VanillaStep.cs), after sae_common.cu: f = ReLU((x - b_dec) W_enc + b_enc), an L1 penalty.

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
