// Top-k SAE kernels (TopKStep.cs), after sae_common.cu. Each row keeps its k largest pre-activations (ties to the lower
// index): up to 1,024 latents a lane holds its LATENT_SLOTS latents in registers (topk_activate); wider SAEs scan the
// row once per kept latent (topk_activate_wide). topk_decode and topk_latent_gradients work from the kept latents only;
// the AuxK term (Gao et al.) reuses them over the latents dead in the last epoch (topk_auxk_difference).

#ifndef LATENT_SLOTS
#define LATENT_SLOTS 32       // latents per lane in topk_activate: ceil(d_sae / 32), at most 32 (set at compile time)
#endif

// Every lane ends with the warp's largest (value, index), ties to the lower index; index 0x7fffffff marks a lane with
// no eligible latent. The order is total, so every lane agrees.
__device__ __forceinline__ void warp_argmax(float& value, int& index)
{
    for (int offset = 16; offset > 0; offset /= 2)
    {
        float other = __shfl_xor_sync(0xffffffffu, value, offset);
        int other_index = __shfl_xor_sync(0xffffffffu, index, offset);
        if (other_index != 0x7fffffff && (index == 0x7fffffff || other > value || (other == value && other_index < index)))
        {
            value = other;
            index = other_index;
        }
    }
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
// relu != 0; the rest are 0. With `among` ([G, m], nonzero = eligible) only those latents compete (AuxK's dead ones).
// Each lane holds its LATENT_SLOTS latents (j = lane, lane + 32, ...) in registers and its best remaining one; each of
// k rounds picks the warp's best of those, and only the winning lane looks again. The chosen latents go to
// selected[g, r, 0..k-1] (a row stride of k_max); when given, stats counts z != 0 and fired marks fired latents.
extern "C" __global__ void topk_activate(const float* pre, const float* b_enc, const int* among, float* z, const int* k_of, int* selected,
                                         int k_max, float* stats, int* fired, int relu, int rows, int m, int g_count)
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
        if (j >= m || (among && !among[(long long)g * m + j])) taken |= 1u << t;
    }
    float best;
    int index;
    lane_best(values, taken, lane, best, index);
    float active = 0;
    for (int round = 0; round < k; round++)
    {
        float winner = best;
        int winner_index = index;
        warp_argmax(winner, winner_index);
        if (winner_index == 0x7fffffff) break;   // fewer eligible latents than k (the caller never asks for that)
        if (winner_index % 32 == lane)
        {
            taken |= 1u << (winner_index / 32);
            float value = relu ? fmaxf(winner, 0.0f) : winner;
            z[base + winner_index] = value;
            selected[(long long)warp * k_max + round] = winner_index;
            if (value != 0)
            {
                active += 1;
                if (fired) fired[(long long)g * m + winner_index] = 1;
            }
            lane_best(values, taken, lane, best, index);
        }
    }
    active = warp_sum(active);
    if (stats && lane == 0) stats[STAT_ACTIVE * (long long)g_count * rows + warp] = active;
}

// Whether (value, index) comes after (previous, previous_index) in the top-k order: larger values first, ties to the
// lower index.
__device__ __forceinline__ bool after(float value, int index, float previous, int previous_index)
{
    return value < previous || (value == previous && index > previous_index);
}

// topk_activate for any width, with the same arguments and results: round t finds, in one pass over the row, the best
// latent after round t-1's winner in the top-k order, so nothing is held per latent.
extern "C" __global__ void topk_activate_wide(const float* pre, const float* b_enc, const int* among, float* z, const int* k_of,
                                              int* selected, int k_max, float* stats, int* fired, int relu, int rows, int m, int g_count)
{
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (warp >= g_count * rows) return;
    int g = warp / rows, k = k_of[g];
    long long base = (long long)warp * m;
    const float* bias = b_enc ? b_enc + (long long)g * m : 0;
    const int* eligible = among ? among + (long long)g * m : 0;
    for (int j = lane; j < m; j += 32) z[base + j] = 0.0f;
    __syncwarp();
    float previous = 0, active = 0;
    int previous_index = -1;   // before round 0 every latent is "after"
    for (int round = 0; round < k; round++)
    {
        float best = NEGATIVE_INFINITY;
        int index = 0x7fffffff;
        for (int j = lane; j < m; j += 32)
        {
            if (eligible && !eligible[j]) continue;
            float value = pre[base + j] + (bias ? bias[j] : 0.0f);
            if (previous_index >= 0 && !after(value, j, previous, previous_index)) continue;
            if (index == 0x7fffffff || value > best) { best = value; index = j; }   // j rises: ties keep the lower
        }
        warp_argmax(best, index);
        if (index == 0x7fffffff) break;   // fewer eligible latents than k (the caller never asks for that)
        previous = best;
        previous_index = index;
        if (lane == 0)
        {
            float value = relu ? fmaxf(best, 0.0f) : best;
            z[base + index] = value;
            selected[(long long)warp * k_max + round] = index;
            if (value != 0)
            {
                active += 1;
                if (fired) fired[(long long)g * m + index] = 1;
            }
        }
    }
    if (stats && lane == 0) stats[STAT_ACTIVE * (long long)g_count * rows + warp] = active;
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
// latent j was chosen and z != 0, else 0 (instead of a dense residual . W_dec^T over all m). With accumulate != 0 the
// values are added to dz as it is (AuxK's share, after the main term's).
extern "C" __global__ void topk_latent_gradients(const float* residual, const float* w_dec, const float* z, const int* selected, const int* k_of,
                                                 int k_max, float* dz, int accumulate, int rows, int d, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows, k = k_of[g];
    long long base = (long long)row * m;
    if (!accumulate)
        for (int j = lane; j < m; j += 32) dz[base + j] = 0.0f;
    __syncwarp();
    const int* chosen = selected + (long long)row * k_max;
    for (int i = 0; i < k; i++)
    {
        int j = chosen[i];
        float dot = 0;
        for (int c = lane; c < d; c += 32) dot += residual[(long long)row * d + c] * w_dec[((long long)g * m + j) * d + c];
        dot = warp_sum(dot);
        if (lane == 0 && z[base + j] != 0) dz[base + j] = accumulate ? dz[base + j] + dot : dot;
    }
}

// AuxK's residual of its residual: diff = sum_i z_aux_i W_dec[i] - e, with e = x - x_hat = -residual / residual_scale
// (the main term's residual, already scaled); weight[g] * ||diff||^2 into the auxiliary stats slot, then diff is scaled
// by 2 weight[g] / rows: the gradient of the weighted batch-mean squared error.
extern "C" __global__ void topk_auxk_difference(const float* z_aux, const int* selected, const int* k_of, int k_max, const float* w_dec,
                                                const float* residual, float residual_scale, const float* weight, float* diff,
                                                float* stats, int rows, int d, int m, int g_count)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= g_count * rows) return;
    int g = row / rows, k = k_of[g];
    const int* chosen = selected + (long long)row * k_max;
    float squares = 0, w = weight[g];
    for (int c = lane; c < d; c += 32)
    {
        float value = 0;
        for (int i = 0; i < k; i++)
        {
            int j = chosen[i];
            value += z_aux[(long long)row * m + j] * w_dec[((long long)g * m + j) * d + c];
        }
        float e = value + residual[(long long)row * d + c] / residual_scale;
        squares += e * e;
        diff[(long long)row * d + c] = e * 2.0f * w / rows;
    }
    squares = warp_sum(squares);
    if (lane == 0) stats[STAT_AUXILIARY * (long long)g_count * rows + row] += w * squares;   // after any inner levels (Matryoshka)
}
