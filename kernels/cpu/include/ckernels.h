/* CKernels: the C side of accelbench's CPU kernels.
 *
 * C holds what Swift cannot express well: AVX512-BF16 (`__m512bh` cannot be imported into Swift),
 * the machine probes (a dependent add chain for the running clock, FMA throughput loops) and the
 * STREAM kernels. Every ISA-specific function is compiled with a per-function
 * __attribute__((target(...))) and must only be called after ckernels_cpu_features() says the CPU
 * has the feature; the portable twins run anywhere. Symbols carry the `ckernels_` prefix.
 */
#ifndef ACCELBENCH_CKERNELS_H
#define ACCELBENCH_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CPU identification (cpuid + xgetbv: a feature counts only when the OS saves its registers) ---- */
enum {
    CKERNELS_FEAT_SSE2 = 1u << 0,
    CKERNELS_FEAT_AVX = 1u << 1,
    CKERNELS_FEAT_AVX2 = 1u << 2,
    CKERNELS_FEAT_FMA = 1u << 3,
    CKERNELS_FEAT_F16C = 1u << 4,
    CKERNELS_FEAT_AVX512F = 1u << 5,
    CKERNELS_FEAT_AVX512BW = 1u << 6,
    CKERNELS_FEAT_AVX512DQ = 1u << 7,
    CKERNELS_FEAT_AVX512VL = 1u << 8,
    CKERNELS_FEAT_AVX512VNNI = 1u << 9,
    CKERNELS_FEAT_AVX512BF16 = 1u << 10,
    CKERNELS_FEAT_AVXVNNI = 1u << 11,
    CKERNELS_FEAT_AVX512FP16 = 1u << 12,
    /* Scalar extensions that -target-cpu haswell / skylake-avx512 code may use anywhere. */
    CKERNELS_FEAT_AVX512CD = 1u << 13,
    CKERNELS_FEAT_BMI1 = 1u << 14,
    CKERNELS_FEAT_BMI2 = 1u << 15,
    CKERNELS_FEAT_LZCNT = 1u << 16,
    CKERNELS_FEAT_MOVBE = 1u << 17,
    CKERNELS_FEAT_POPCNT = 1u << 18,
    CKERNELS_FEAT_PRFCHW = 1u << 19,
};

/* Bit set of CKERNELS_FEAT_* the CPU and OS support. 0 on non-x86 machines. Probed once (cpuid is
 * slow in a VM), so hot paths may call it. */
uint32_t ckernels_cpu_features(void);
/* CPU vendor string ("GenuineIntel", "AuthenticAMD", ...), NUL-terminated, into out[13]. */
void ckernels_cpu_vendor(char out[13]);
/* Display family and model as cpuid defines them (family includes the extended family). */
int ckernels_cpu_family(void);
int ckernels_cpu_model(void);
/* Brand string ("AMD EPYC ..."), NUL-terminated, into out[49]. */
void ckernels_cpu_brand(char out[49]);

/* =====================================================================================================
 * Machine probes (probes.c)
 *
 * These only do work; the Swift side times them. Each returns a value derived from all of its
 * registers so the compiler cannot remove the loop.
 * ===================================================================================================== */

/* Integer adds per loop iteration of ckernels_add_chain. Every add depends on the previous one (1 cycle
 * latency on every x86-64 and AArch64 core of interest) and the loop counter is a separate register, so
 * the critical path is exactly one cycle per add: running clock (Hz) = iterations * this / seconds. */
#define CKERNELS_ADD_CHAIN_ADDS_PER_ITERATION 16

/* Runs `iterations` iterations of a dependent chain of CKERNELS_ADD_CHAIN_ADDS_PER_ITERATION adds.
 * Returns iterations * CKERNELS_ADD_CHAIN_ADDS_PER_ITERATION (the chain's final value). Portable. */
uint64_t ckernels_add_chain(uint64_t iterations);

/* Exact floating-point operations one iteration of each throughput loop performs (an FMA counts 2). */
#define CKERNELS_FMA_PEAK_AVX512_FLOPS_PER_ITERATION 512   /* 16 zmm accumulators x 16 fp32 lanes x 2 */
#define CKERNELS_FMA_PEAK_AVX2_FLOPS_PER_ITERATION 192     /* 12 ymm accumulators x 8 fp32 lanes x 2  */
#define CKERNELS_FMA_PEAK_SSE_FLOPS_PER_ITERATION 112      /* 14 xmm accumulators x 4 fp32 lanes x (mul + add) */
#define CKERNELS_BF16_DOT_PEAK_AVX512_FLOPS_PER_ITERATION 1024 /* 16 vdpbf16ps zmm x 16 lanes x 2 products x 2 */

/* fp32 FMA throughput loop on zmm registers (vfmadd231ps zmm). Requires CKERNELS_FEAT_AVX512F. */
float ckernels_fma_peak_avx512(uint64_t iterations);
/* fp32 FMA throughput loop on ymm registers (vfmadd ymm). Requires CKERNELS_FEAT_AVX2 and CKERNELS_FEAT_FMA. */
float ckernels_fma_peak_avx2(uint64_t iterations);
/* fp32 separate multiply + add on 128-bit vectors (SSE2 mulps/addps on x86-64, no FMA). Portable. */
float ckernels_fma_peak_sse(uint64_t iterations);
/* bf16 dot-product throughput loop (vdpbf16ps zmm, fp32 accumulation). Requires CKERNELS_FEAT_AVX512BF16
 * (which the feature detection only reports together with AVX512F). */
float ckernels_bf16_dot_peak_avx512(uint64_t iterations);

#define CKERNELS_INT8_DOT_PEAK_AVX512VNNI_OPS_PER_ITERATION 2048 /* 16 vpdpbusd zmm x 16 lanes x 4 products x 2 */
/* int8 dot-product throughput loop (vpdpbusd zmm: u8 x s8 -> int32). Requires CKERNELS_FEAT_AVX512VNNI
 * and CKERNELS_FEAT_AVX512BW. Returns the sum of the accumulators (keeps the loop alive). */
int64_t ckernels_int8_dot_peak_avx512vnni(uint64_t iterations);

/* =====================================================================================================
 * STREAM kernels (stream.c), on doubles, over an index range: the caller splits the arrays among its
 * threads by passing offset pointers. Plain loops compiled for the baseline ISA (memory-bound, so the ISA
 * does not matter); no alignment required; arrays must not overlap. Bytes per element follow the STREAM
 * rule (each array touched counts once; write-allocate traffic is not counted).
 * ===================================================================================================== */
#define CKERNELS_STREAM_COPY_BYTES_PER_ELEMENT 16  /* c = a          */
#define CKERNELS_STREAM_SCALE_BYTES_PER_ELEMENT 16 /* b = q * c      */
#define CKERNELS_STREAM_ADD_BYTES_PER_ELEMENT 24   /* c = a + b      */
#define CKERNELS_STREAM_TRIAD_BYTES_PER_ELEMENT 24 /* a = b + q * c  */
#define CKERNELS_STREAM_READ_BYTES_PER_ELEMENT 8   /* sum(a)         */

void ckernels_stream_copy(double *c, const double *a, size_t n);
void ckernels_stream_scale(double *b, const double *c, double q, size_t n);
void ckernels_stream_add(double *c, const double *a, const double *b, size_t n);
void ckernels_stream_triad(double *a, const double *b, const double *c, double q, size_t n);
/* Sum of a[0..<n] (independent vector accumulators: memory-bound, not add-latency-bound). 0 for n = 0. */
double ckernels_stream_read(const double *a, size_t n);

/* =====================================================================================================
 * bf16 GEMM (sbgemm.c): C[m x n] (fp32, row-major, ldc) = A[m x k] (bf16, row-major, lda)
 *                                                      x B[k x n] (bf16, row-major, ldb)
 * with fp32 accumulation; C is overwritten (beta = 0), never read, so it may hold garbage or NaN. bf16 is
 * passed as its bit pattern (uint16_t, the upper half of an IEEE fp32). Leading dimensions are in
 * elements and must be >= the row length (k for A, n for B and C). No alignment is required of A, B, C.
 *
 * Single-threaded and reentrant: to use several threads, give each thread a disjoint block of C (row or
 * column slices, by offsetting the pointers and keeping the leading dimensions) and its own workspace.
 * m, n or k may be 0 (k = 0 writes zeros to C).
 * ===================================================================================================== */

/* Register tile and cache blocking of the AVX512-BF16 kernel (informational; elements, not bytes; the
 * reasons and measurements are in sbgemm.c). */
#define CKERNELS_SBGEMM_MR 12   /* rows of C per register tile                       */
#define CKERNELS_SBGEMM_NR 32   /* columns of C per register tile (2 zmm of fp32)    */
#define CKERNELS_SBGEMM_KC 2048 /* depth of one packed block (k values, even)        */
#define CKERNELS_SBGEMM_MC 48   /* rows of A per packed block (multiple of MR)       */
#define CKERNELS_SBGEMM_NC 1024 /* columns of B per packed block (multiple of NR)    */

/* Bytes of packing workspace one call of either sbgemm function needs for this shape (single thread).
 * Any alignment is accepted (the functions align inside it; the figure includes that slack). */
size_t ckernels_sbgemm_workspace_bytes(size_t m, size_t n, size_t k);

/* 1 when the CPU can run ckernels_sbgemm_avx512bf16: AVX512F, BW, VL, DQ and BF16 present and enabled
 * (every CPU with AVX512_BF16 so far has the other four; this checks all five). */
int ckernels_sbgemm_avx512bf16_supported(void);

/* workspace: at least ckernels_sbgemm_workspace_bytes(m, n, k) bytes, used by this call only (not shared
 * with a concurrent call). NULL makes the call allocate and free its own (do not time that).
 * Numerics: vdpbf16ps adds each pair of products to the fp32 accumulator with round-to-nearest-even and
 * treats subnormal inputs and results as zero (regardless of MXCSR); the portable path keeps subnormals.
 * The summation order differs from a plain loop (k pairs, blocks of CKERNELS_SBGEMM_KC), so results agree
 * with a float64 reference to ~1e-7 relative to sum |a_ip * b_pj|, not bit for bit with other libraries. */
void ckernels_sbgemm_avx512bf16(size_t m, size_t n, size_t k, const uint16_t *a, size_t lda, const uint16_t *b,
                                size_t ldb, float *c, size_t ldc, void *workspace);
/* Same contract; runs on any CPU (bf16 converted to fp32, fp32 multiply-add). Slow; a correct fallback. */
void ckernels_sbgemm_portable(size_t m, size_t n, size_t k, const uint16_t *a, size_t lda, const uint16_t *b,
                              size_t ldb, float *c, size_t ldc, void *workspace);

/* fp32 -> bf16 with round-to-nearest-even; NaN stays NaN (quiet, sign kept); overflow rounds to +-inf;
 * subnormals are kept (rounded), not flushed. src and dst must not overlap. */
void ckernels_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/* bf16 -> fp32 (exact). */
void ckernels_bf16_to_f32(const uint16_t *src, float *dst, size_t n);

#ifdef __cplusplus
}
#endif
#endif
