// Kernels of GPT-2's forward pass on the GPU (CudaGpt2Model.cs); its matrix products are cuBLAS's. Activations are
// row-major [rows = batch * seq_len, width]; attention patterns are [batch, heads, seq_len, seq_len].

// x[r, c] = wte[ids[r], c] + wpe[r % seq_len, c].
extern "C" __global__ void embed(const int* ids, const float* wte, const float* wpe, float* x, int seq_len, int d, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    long long row = i / d;
    int c = (int)(i % d);
    x[i] = wte[(long long)ids[row] * d + c] + wpe[(row % seq_len) * d + c];
}

// out[r] = LayerNorm(x[source(r)]): (x - mean) / sqrt(var + eps), then * weight + bias unless weight is null (a folded
// LayerNorm). source(r) = rows_of ? rows_of[r] : r. One warp per output row.
extern "C" __global__ void layer_norm(const float* x, const float* weight, const float* bias, float* out, const int* rows_of, int rows, int d,
                                      float epsilon)
{
    int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (row >= rows) return;
    const float* in = x + (long long)(rows_of ? rows_of[row] : row) * d;
    float* o = out + (long long)row * d;
    float sum = 0;
    for (int c = lane; c < d; c += 32) sum += in[c];
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    float mean = sum / d, squares = 0;
    for (int c = lane; c < d; c += 32) squares += (in[c] - mean) * (in[c] - mean);
    for (int offset = 16; offset > 0; offset /= 2) squares += __shfl_xor_sync(0xffffffffu, squares, offset);
    float scale = 1.0f / sqrtf(squares / d + epsilon);
    for (int c = lane; c < d; c += 32)
    {
        float value = (in[c] - mean) * scale;
        o[c] = weight ? value * weight[c] + bias[c] : value;
    }
}

// out[r, c] = (accumulate ? out[r, c] : 0) + bias[c]: a linear layer's bias, before its product adds x W.
extern "C" __global__ void add_bias(float* out, const float* bias, int accumulate, int cols, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    out[i] = (accumulate ? out[i] : 0.0f) + bias[i % cols];
}

// GPT-2's tanh-approximate GELU, in place.
extern "C" __global__ void gelu_new(float* x, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i >= total) return;
    float v = x[i];
    float t = tanhf((0.7978845608f + 0.0356774081f * v * v) * v);
    x[i] = 0.5f * v + t * (0.5f * v);
}

// A hook's `width` values at one position per prompt (a head's q/k/v/z slice, a layer's heads, or a residual-stream
// vector): buffer[(b * seq_len + positions[b]) * stride + column + c] is written from values[b * width + c] (write = 1:
// a patch) or read into it (write = 0: a capture).
extern "C" __global__ void hook_values(float* buffer, const int* positions, float* values, int write, int seq_len, int stride, int column,
                                       int width, int batch)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * width) return;
    int b = i / width, c = i % width;
    float* at = buffer + ((long long)b * seq_len + positions[b]) * stride + column + c;
    if (write) *at = values[i];
    else values[i] = *at;
}

// residual[i] += output[i]: a sublayer's output, formed apart so that hooks could read or overwrite it, joins the stream.
extern "C" __global__ void add_to_residual(float* residual, const float* output, long long total)
{
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (i < total) residual[i] += output[i];
}

// Causal softmax attention patterns: pattern[b, h, i, j] = softmax_j<=i(q_i . k_j * scale), 0 for j > i. One warp per
// (prompt, head, query).
extern "C" __global__ void attention_pattern(const float* qkv, float* pattern, int batch, int seq_len, int heads, int d, int d_head, float scale)
{
    int item = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
    if (item >= batch * heads * seq_len) return;
    int i = item % seq_len, h = item / seq_len % heads, b = item / seq_len / heads;
    const float* q = qkv + ((long long)b * seq_len + i) * 3 * d + h * d_head;
    float* row = pattern + (long long)item * seq_len;
    float best = __int_as_float(0xff800000);
    for (int j = lane; j <= i; j += 32)
    {
        const float* k = qkv + ((long long)b * seq_len + j) * 3 * d + d + h * d_head;
        float score = 0;
        for (int c = 0; c < d_head; c++) score += q[c] * k[c];
        row[j] = score * scale;
        best = fmaxf(best, score * scale);
    }
    for (int offset = 16; offset > 0; offset /= 2) best = fmaxf(best, __shfl_xor_sync(0xffffffffu, best, offset));
    float sum = 0;
    for (int j = lane; j <= i; j += 32)
    {
        row[j] = expf(row[j] - best);
        sum += row[j];
    }
    for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    for (int j = lane; j < seq_len; j += 32) row[j] = j <= i ? row[j] / sum : 0.0f;
}

// A pattern hook at one head and one query position per prompt: pattern row [b, head, positions[b], :] is written from
// values[b * seq_len + j] for j up to the query (write = 1; the causal mask drops the rest) or read whole into it.
extern "C" __global__ void pattern_values(float* pattern, const int* positions, float* values, int write, int head, int heads, int seq_len,
                                          int batch)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= batch * seq_len) return;
    int b = i / seq_len, j = i % seq_len;
    float* at = pattern + (((long long)b * heads + head) * seq_len + positions[b]) * seq_len + j;
    if (!write) values[i] = *at;
    else if (j <= positions[b]) *at = values[i];
}

// z[b, i, h * d_head + c] = sum over j <= i of pattern[b, h, i, j] * v[b, j, h, c].
extern "C" __global__ void attention_output(const float* qkv, const float* pattern, float* z, int batch, int seq_len, int heads, int d,
                                            int d_head)
{
    long long index = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (index >= (long long)batch * seq_len * d) return;
    int c = (int)(index % d_head), h = (int)(index / d_head % heads);
    long long row = index / d;
    int i = (int)(row % seq_len), b = (int)(row / seq_len);
    const float* weights = pattern + (((long long)b * heads + h) * seq_len + i) * seq_len;
    float sum = 0;
    for (int j = 0; j <= i; j++) sum += weights[j] * qkv[((long long)b * seq_len + j) * 3 * d + 2 * d + h * d_head + c];
    z[index] = sum;
}
