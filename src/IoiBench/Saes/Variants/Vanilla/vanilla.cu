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
