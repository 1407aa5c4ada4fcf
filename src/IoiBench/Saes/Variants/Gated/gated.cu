// Gated SAE kernels (GatedStep.cs), after sae_common.cu: a gate and a magnitude path sharing W_gate.

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
