/* Machine probes: a dependent add chain (running clock) and floating-point throughput loops (peak FLOPs).
 *
 * The Swift side times these; they only do work. Each throughput loop keeps enough independent
 * accumulators in registers to cover (instruction latency x pipes), so its speed is bounded by issue
 * throughput, not by a dependency chain. Zen 4 figures used for the sizing: FMA latency 4 cycles on 2
 * 256-bit pipes (a zmm FMA occupies both halves: 1 per cycle, ymm: 2 per cycle), FMUL/FADD latency 3 on
 * 2 + 2 pipes, vdpbf16ps latency ~6 at 1 zmm per cycle. Sapphire Rapids / Cooper Lake (2 zmm FMA ports,
 * latency 4) need 8 zmm chains; 16 covers both with room to spare while fitting the 32 zmm registers.
 *
 * The multiplier and addend go through an empty asm statement so the compiler cannot fold or hoist
 * them, and the accumulators converge (acc = acc * m + a with 0 < m < 1) so they stay finite and normal
 * for any iteration count (no denormal slow paths, no infinities).
 */
#include "ckernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

/* Constants the optimizer cannot see through ("v": any xmm/ymm/zmm register, AVX-512 included). */
#define CKERNELS_OPAQUE(x) __asm__ volatile("" : "+v"(x))

/* ---------------------------------------------------------------------------------------------------
 * Add chain. The whole loop is one asm block so the compiler can neither reorder nor shorten it: 16 adds
 * into one register, each reading the previous result (1 cycle each), then an independent counter
 * decrement and branch, which run on the other ALUs in the shadow of the chain. 16 adds + 2 ops per
 * 16 cycles is well inside a 4-ALU core, so the loop runs at exactly 16 cycles per iteration.
 * --------------------------------------------------------------------------------------------------- */
#define CKERNELS_ADD4_X86 "add $1, %[x]\n\tadd $1, %[x]\n\tadd $1, %[x]\n\tadd $1, %[x]\n\t"
#define CKERNELS_ADD4_A64 "add %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\tadd %[x], %[x], #1\n\t"

uint64_t ckernels_add_chain(uint64_t iterations) {
    uint64_t x = 0;
    uint64_t n = iterations;
    if (n == 0) return 0;
#if defined(__x86_64__)
    __asm__ volatile(".p2align 5\n"
                     "1:\n\t" CKERNELS_ADD4_X86 CKERNELS_ADD4_X86 CKERNELS_ADD4_X86 CKERNELS_ADD4_X86
                     "sub $1, %[n]\n\t"
                     "jnz 1b\n\t"
                     : [x] "+r"(x), [n] "+r"(n)
                     :
                     : "cc");
#elif defined(__aarch64__)
    __asm__ volatile(".p2align 5\n"
                     "1:\n\t" CKERNELS_ADD4_A64 CKERNELS_ADD4_A64 CKERNELS_ADD4_A64 CKERNELS_ADD4_A64
                     "subs %[n], %[n], #1\n\t"
                     "b.ne 1b\n\t"
                     : [x] "+r"(x), [n] "+r"(n)
                     :
                     : "cc");
#else
    /* Generic: the empty asm forces x through a register after every add, so the adds stay a chain. */
    for (; n != 0; n--) {
        for (int i = 0; i < CKERNELS_ADD_CHAIN_ADDS_PER_ITERATION; i++) {
            x += 1;
            __asm__ volatile("" : "+r"(x));
        }
    }
#endif
    return x;
}

#if defined(__x86_64__)

/* ---------------------------------------------------------------------------------------------------
 * fp32 FMA on zmm: 16 accumulators (16 of the 32 zmm registers; the loop body is 16 independent
 * vfmadd231ps). 16 x 16 lanes x 2 = 512 FLOPs per iteration.
 * --------------------------------------------------------------------------------------------------- */
#define FMA512_ACC 16
_Static_assert(FMA512_ACC * 16 * 2 == CKERNELS_FMA_PEAK_AVX512_FLOPS_PER_ITERATION, "zmm FLOPs/iteration");

__attribute__((target("avx512f"))) float ckernels_fma_peak_avx512(uint64_t iterations) {
    __m512 m = _mm512_set1_ps(0.9990234375f); /* 1 - 2^-10 */
    __m512 a = _mm512_set1_ps(0.0009765625f); /* 2^-10: acc converges to a / (1 - m) = 1 */
    CKERNELS_OPAQUE(m);
    CKERNELS_OPAQUE(a);
    __m512 acc[FMA512_ACC];
    for (int j = 0; j < FMA512_ACC; j++) acc[j] = _mm512_set1_ps(0.0625f * (float)j);
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < FMA512_ACC; j++) acc[j] = _mm512_fmadd_ps(acc[j], m, a);
    }
    __m512 s = acc[0];
    for (int j = 1; j < FMA512_ACC; j++) s = _mm512_add_ps(s, acc[j]);
    return _mm512_reduce_add_ps(s);
}

/* ---------------------------------------------------------------------------------------------------
 * fp32 FMA on ymm: 12 accumulators + 2 constants = 14 of the 16 ymm registers. Two FMA pipes of
 * latency 4 (Zen 2-4, Haswell-Skylake: 2 x 4-5) need 8-10 chains; 12 leaves margin.
 * 12 x 8 lanes x 2 = 192 FLOPs per iteration.
 * --------------------------------------------------------------------------------------------------- */
#define FMA256_ACC 12
_Static_assert(FMA256_ACC * 8 * 2 == CKERNELS_FMA_PEAK_AVX2_FLOPS_PER_ITERATION, "ymm FLOPs/iteration");

__attribute__((target("avx2,fma"))) float ckernels_fma_peak_avx2(uint64_t iterations) {
    __m256 m = _mm256_set1_ps(0.9990234375f);
    __m256 a = _mm256_set1_ps(0.0009765625f);
    CKERNELS_OPAQUE(m);
    CKERNELS_OPAQUE(a);
    __m256 acc[FMA256_ACC];
    for (int j = 0; j < FMA256_ACC; j++) acc[j] = _mm256_set1_ps(0.0625f * (float)j);
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < FMA256_ACC; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
    }
    __m256 s = acc[0];
    for (int j = 1; j < FMA256_ACC; j++) s = _mm256_add_ps(s, acc[j]);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

/* ---------------------------------------------------------------------------------------------------
 * bf16 dot products on zmm: vdpbf16ps acc, x, y adds x[2i]*y[2i] + x[2i+1]*y[2i+1] to fp32 lane i.
 * 16 accumulators (latency ~6, 1 per cycle on Zen 4; 2 ports on Sapphire Rapids).
 * x = (1, 1), y = (2^-20, 2^-20): every lane grows by 2^-19 per instruction, which stays finite for any
 * iteration count (lanes stop growing near 2^6, where the addend falls below half an ulp; the work is the same).
 * 16 x 16 lanes x 2 products x 2 FLOPs = 1024 FLOPs per iteration.
 * --------------------------------------------------------------------------------------------------- */
#define BF16DOT_ACC 16
_Static_assert(BF16DOT_ACC * 16 * 2 * 2 == CKERNELS_BF16_DOT_PEAK_AVX512_FLOPS_PER_ITERATION, "bf16 FLOPs");

__attribute__((target("avx512f,avx512bf16"))) float ckernels_bf16_dot_peak_avx512(uint64_t iterations) {
    __m512i xi = _mm512_set1_epi32(0x3F803F80); /* bf16 pair (1.0, 1.0) */
    __m512i yi = _mm512_set1_epi32(0x35803580); /* bf16 pair (2^-20, 2^-20) */
    __asm__ volatile("" : "+v"(xi), "+v"(yi));
    __m512bh x = (__m512bh)xi, y = (__m512bh)yi;
    __m512 acc[BF16DOT_ACC];
    for (int j = 0; j < BF16DOT_ACC; j++) acc[j] = _mm512_set1_ps(0.0625f * (float)j);
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < BF16DOT_ACC; j++) acc[j] = _mm512_dpbf16_ps(acc[j], x, y);
    }
    __m512 s = acc[0];
    for (int j = 1; j < BF16DOT_ACC; j++) s = _mm512_add_ps(s, acc[j]);
    return _mm512_reduce_add_ps(s);
}

/* ---------------------------------------------------------------------------------------------------
 * int8 dot-product throughput loop: vpdpbusd zmm (u8 x s8, 4 products summed into each int32 lane).
 * Zen 4 runs it at 1 zmm per cycle with latency ~4-5; Ice Lake / Sapphire Rapids at 1 per cycle on port
 * 0 (2 with port 5 on some parts) with latency 5: 16 independent accumulators cover both. The operands
 * are small (1 x 1) so the int32 sums cannot overflow for any iteration count a probe runs (each
 * iteration adds 4 per lane: 2^31 / 4 iterations, far beyond a probe's length).
 * --------------------------------------------------------------------------------------------------- */
#define VNNI_ACC 16
_Static_assert(VNNI_ACC * 16 * 4 * 2 == CKERNELS_INT8_DOT_PEAK_AVX512VNNI_OPS_PER_ITERATION, "int8 ops");

__attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t ckernels_int8_dot_peak_avx512vnni(uint64_t iterations) {
    __m512i x = _mm512_set1_epi8(1);
    __m512i y = _mm512_set1_epi8(1);
    __asm__ volatile("" : "+v"(x), "+v"(y));
    __m512i acc[VNNI_ACC];
    for (int j = 0; j < VNNI_ACC; j++) acc[j] = _mm512_set1_epi32(j);
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < VNNI_ACC; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], x, y);
    }
    __m512i s = acc[0];
    for (int j = 1; j < VNNI_ACC; j++) s = _mm512_add_epi32(s, acc[j]);
    return (int64_t)_mm512_reduce_add_epi32(s);
}

#else /* not x86-64: the ISA-specific probes exist (the Swift side never calls them there) and return NaN */

float ckernels_fma_peak_avx512(uint64_t iterations) { (void)iterations; return __builtin_nanf(""); }
float ckernels_fma_peak_avx2(uint64_t iterations) { (void)iterations; return __builtin_nanf(""); }
float ckernels_bf16_dot_peak_avx512(uint64_t iterations) { (void)iterations; return __builtin_nanf(""); }
int64_t ckernels_int8_dot_peak_avx512vnni(uint64_t iterations) { (void)iterations; return -1; }

#endif

/* ---------------------------------------------------------------------------------------------------
 * Separate multiply and add on 128-bit vectors, baseline ISA (SSE2 mulps + addps on x86-64, NEON
 * fmul + fadd on AArch64). Each accumulator is a chain acc = acc * m + a of latency mul + add (3 + 3 on
 * Zen 4); 2 multiply and 2 add pipes need 2 x 6 / 2 = 6 chains in flight per pipe pair: 14 accumulators
 * + 2 constants fill the 16 xmm registers of SSE2 without spilling. The multiply and the add are two
 * statements, so the compiler never contracts them into an FMA (C's FP_CONTRACT only acts within one
 * expression). 14 x 4 lanes x 2 = 112 FLOPs per iteration.
 * --------------------------------------------------------------------------------------------------- */
#define SSE_ACC 14
_Static_assert(SSE_ACC * 4 * 2 == CKERNELS_FMA_PEAK_SSE_FLOPS_PER_ITERATION, "xmm FLOPs/iteration");

typedef float ckernels_v4f __attribute__((vector_size(16)));

float ckernels_fma_peak_sse(uint64_t iterations) {
    ckernels_v4f m = {0.9990234375f, 0.9990234375f, 0.9990234375f, 0.9990234375f};
    ckernels_v4f a = {0.0009765625f, 0.0009765625f, 0.0009765625f, 0.0009765625f};
#if defined(__x86_64__)
    __asm__ volatile("" : "+x"(m), "+x"(a));
#elif defined(__aarch64__)
    __asm__ volatile("" : "+w"(m), "+w"(a));
#endif
    ckernels_v4f acc[SSE_ACC];
    for (int j = 0; j < SSE_ACC; j++) {
        float v = 0.0625f * (float)j;
        acc[j] = (ckernels_v4f){v, v, v, v};
    }
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < SSE_ACC; j++) {
            ckernels_v4f t = acc[j] * m;
            acc[j] = t + a;
        }
    }
    ckernels_v4f s = acc[0];
    for (int j = 1; j < SSE_ACC; j++) s = s + acc[j];
    return (s[0] + s[1]) + (s[2] + s[3]);
}
