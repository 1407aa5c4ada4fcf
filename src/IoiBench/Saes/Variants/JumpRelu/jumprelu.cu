// JumpReLU SAE kernels (JumpReluStep.cs), after sae_common.cu: a learned threshold per latent, an L0 penalty, and the
// straight-through estimators of its gradients (JumpReluSae.cs).

// JumpReLU, from pre = (x - b_dec) W_enc: pre += b_enc in place (the backward pass reads it), theta = exp(log_threshold),
// f = pre > theta ? pre : 0; the count of open latents is the row's sparsity term and its L0; fired where open.
extern "C" __global__ void jumprelu_activate(float* pre, const float* b_enc, const float* log_threshold, float* f, float* stats, int* fired,
                                             int rows, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows;
    long long base = (long long)row * m;
    float open = 0;
    for (int j = lane; j < m; j += 32)
    {
        long long at = (long long)g * m + j;
        float value = pre[base + j] + b_enc[at];
        pre[base + j] = value;
        bool above = value > expf(log_threshold[at]);
        f[base + j] = above ? value : 0.0f;
        if (above) { open += 1; fired[at] = 1; }
    }
    write_sparsity_stats(stats, open, open, row, rows, g_count, lane);
}

// JumpReLU's backward pass, given d_f = dL/df: with u = (pre - theta) / bandwidth in the kernel's window (|u| < 1/2),
// theta's gradient gets -(theta / bandwidth) d_f (through f) - add[g] add_scale / bandwidth (the L0 term, add_scale =
// 1 / rows); log_threshold's is theta times that. d_f becomes dL/dpre = d_f where the latent is open, else 0, and its
// column sums are b_enc's gradient. Tiled as relu_backward: a block takes one SAE and 32 latents, warps take rows.
extern "C" __global__ void jumprelu_backward(float* d_f, const float* pre, const float* f, const float* log_threshold, const float* add,
                                             float add_scale, float bandwidth, float* b_enc_grad, float* log_threshold_grad, int rows, int m)
{
    __shared__ float partial[2][8][32];
    int tiles = (m + 31) / 32, g = blockIdx.x / tiles, lane = threadIdx.x % 32, j = (blockIdx.x % tiles) * 32 + lane, warp = threadIdx.x / 32;
    float sum_pre = 0, sum_theta = 0, theta = 0;
    if (j < m)
    {
        theta = expf(log_threshold[(long long)g * m + j]);
        float penalty = add[g] * add_scale / bandwidth;
        long long base = (long long)g * rows * m + j;
#pragma unroll 4
        for (int r = warp; r < rows; r += 8)
        {
            long long at = base + (long long)r * m;
            float u = (pre[at] - theta) / bandwidth, gradient = d_f[at];
            if (u > -0.5f && u < 0.5f) sum_theta += -(theta / bandwidth) * gradient - penalty;
            float kept = f[at] != 0 ? gradient : 0.0f;
            d_f[at] = kept;
            sum_pre += kept;
        }
    }
    partial[0][warp][lane] = sum_pre;
    partial[1][warp][lane] = sum_theta;
    __syncthreads();
    if (warp < 2 && j < m)
    {
        float total = 0;
        for (int w = 0; w < 8; w++) total += partial[warp][w][lane];
        long long at = (long long)g * m + j;
        if (warp == 0) b_enc_grad[at] = total;
        else log_threshold_grad[at] = theta * total;
    }
}
