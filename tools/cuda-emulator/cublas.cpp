// A CPU emulation of the cuBLAS calls IoiBench makes (libcublas.so), for its GPU code paths on machines without a
// GPU: column-major single-precision products, plain loops accumulated in float, as cuBLAS's are.
#include <cstdint>

namespace {
float at(const float* m, int ld, bool transpose, int row, int column) { return transpose ? m[column + (int64_t)row * ld] : m[row + (int64_t)column * ld]; }

void gemm(int transa, int transb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc)
{
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++)
        {
            float sum = 0;
            for (int p = 0; p < k; p++) sum += at(a, lda, transa != 0, i, p) * at(b, ldb, transb != 0, p, j);
            float& out = c[i + (int64_t)j * ldc];
            out = alpha * sum + (beta == 0 ? 0 : beta * out);
        }
}
}

extern "C" {
int cublasGetProperty(int type, int* value)
{
    *value = type == 0 ? 13 : 0;
    return 0;
}
int cublasCreate_v2(void** handle) { static int created; *handle = &created; return 0; }
int cublasDestroy_v2(void*) { return 0; }
int cublasSgemm_v2(void*, int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda, const float* b, int ldb,
                   const float* beta, float* c, int ldc)
{
    gemm(transa, transb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
    return 0;
}
int cublasSgemmStridedBatched(void*, int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda, long long stride_a,
                              const float* b, int ldb, long long stride_b, const float* beta, float* c, int ldc, long long stride_c, int count)
{
    for (int i = 0; i < count; i++)
        gemm(transa, transb, m, n, k, *alpha, a + i * stride_a, lda, b + i * stride_b, ldb, *beta, c + i * stride_c, ldc);
    return 0;
}
}
