// The kernel `ioibench device` launches to check the driver and NVRTC end to end (CudaSelfTest.cs).
extern "C" __global__ void axpy(float a, const float* x, float* y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}
