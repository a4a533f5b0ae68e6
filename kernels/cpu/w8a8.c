/* W8A8 int8 GEMM / GEMV: per-channel int8 weights x per-token int8 activations (vpdpbusd).
 *
 * Contract, quantization rule and layouts: ckernels_w8a8.h. This file holds the plain quantizer and the
 * exact reference, the weight packing, the activation quantizer (portable + AVX512), and three GEMM paths
 * with one numeric contract: AVX512-VNNI, AVX2, portable.
 *
 * Why this shape (Zen 4; holds for any AVX512-VNNI core):
 *  - One scale per row and per token, so the whole K reduction is integer: the inner loop is nothing but
 *    vpdpbusd (plus the weight loads), and int32 -> fp32 happens once per output at the end of K (the
 *    q8_0 / q4_0 kernels convert and fma once per 32-k block, which caps them at ~77% of the peak).
 *  - vpdpbusd zmm multiplies u8 (the register operand) by s8 (the register-or-memory operand, which may
 *    be an embedded {1to16} dword broadcast). Weight vectors (16 rows in the lanes x 4 consecutive k per
 *    lane) are the u8 side, stored as qw + 128; one token's 4 activation bytes are the s8 side, broadcast
 *    straight from memory (no shuffle, no extra instruction). The +128 offset contributes 128 * sum_k qx[t]
 *    to every lane; the quantizer stores corr[t] = -128 * sum_k qx[t] and the accumulators start from it,
 *    so the loop needs no correction at all.
 *  - Weights are packed in k chunks of 1024 (ckernels_w8a8.h): chunk c holds every group's 16 x 1024
 *    bytes, group after group.
 *  - GEMM (n > 6): register tile of R = 2 row groups (16 rows each) x c <= 12 tokens of int32
 *    accumulators (24 of the 32 zmm): per 4 k, R weight loads and c broadcast-loads feed R * c
 *    vpdpbusd (176 bytes read per 24 vpdpbusd). Loop nest (per thread, rows [m0, m1)):
 *      for each panel of R row groups (R * 16 * k bytes of weights: 128 KiB for k = 4096, stays in L2)
 *        for each activation tile: one pass over all of k (chunk after chunk), then the epilogue
 *    The weights are read from memory once; the activations (n * k bytes) are re-read once per panel,
 *    from L2 or L3. Measured (4096 x 512 x 4096, 1 thread): this beat splitting the tiles into L2-sized
 *    chunks (re-reading the weights per chunk) by ~7% (440 vs 395-422 GOPS).
 *  - GEMV (n <= 6): chunk by chunk, the slice's groups in order, so the weights are one ascending stream
 *    and the chunk's activation (n KiB) stays in L1; per group and chunk, 2-4 independent int32 chains
 *    per token, whose partial sums wait in Y (as int32 bits) until the last chunk. Measured from DRAM
 *    (4096 x 4096 and the 14336 shapes, alternating with a plain read of the same bytes): 100-104% of
 *    the read at 1 thread and ~100% at 2, where the former schedule (4 row groups at once over all of
 *    k: 4 streams, the activation refetched per panel) gave 84-89% at 1 thread.
 *    Epilogue per accumulator: vcvtdq2ps, (s_x * s_w) (a vmulps), times the converted dot, masked store.
 *
 * Measured (Zen 4 at ~3.63 GHz, 2 vCPU shared with other builds, best of N; quantization of X included):
 *   4096 x 512 x 4096: 1 thread 405-440 GOPS (vpdpbusd zmm peak ~455), ~40 ms; 2 threads (W8A8GEMMPlan)
 *   796-818 GOPS, ~21 ms. AVX2 path, 1 thread: ~125 GOPS.
 *   4096 x 1 x 4096 (16 MiB of weights, hot in L3): 1 thread ~240-300 us, 2 threads ~100-175 us.
 */
#include "ckernels.h"
#include "ckernels_w8a8.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define WROWS CKERNELS_W8A8_ROWS
#define WTILE CKERNELS_W8A8_TILE

enum { PATH_PORTABLE = 0, PATH_AVX2 = 1, PATH_AVX512VNNI = 2 }; /* = CKERNELS_QPATH_* */

static inline size_t wmin(size_t a, size_t b) { return a < b ? a : b; }
static inline size_t round64(size_t x) { return (x + 63) & ~(size_t)63; }

/* ---- Plain quantization ---- */

/* round half away from zero, then clamp: the one rounding rule of every quantizer here. */
static inline int8_t quant_one(float x, float s) {
    float v = roundf(x / s);
    if (v > 127.0f) v = 127.0f;
    if (v < -127.0f) v = -127.0f;
    return (int8_t)(int)v;
}

static float quant_row(size_t k, const float *x, int8_t *q) {
    float amax = 0.0f;
    for (size_t j = 0; j < k; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    const float s = amax / 127.0f;
    if (s == 0.0f) {
        memset(q, 0, k);
        return 0.0f;
    }
    for (size_t j = 0; j < k; j++) q[j] = quant_one(x[j], s);
    return s;
}

void ckernels_w8a8_quantize_rows(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q, float *scale) {
    for (size_t r = 0; r < rows; r++) scale[r] = quant_row(k, x + r * ldx, q + r * k);
}

void ckernels_w8a8_gemm_ref(size_t m, size_t n, size_t k, const int8_t *qw, const float *sw, const int8_t *qx,
                            const float *sx, float *y, size_t ldy) {
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < m; i++) {
            int32_t dot = 0;
            for (size_t j = 0; j < k; j++) dot += (int32_t)qw[i * k + j] * (int32_t)qx[t * k + j];
            const float s = sx[t] * sw[i];
            y[t * ldy + i] = s * (float)dot;
        }
}

int ckernels_w8a8_path_supported(int path) {
    const uint32_t f = ckernels_cpu_features();
    switch (path) {
    case PATH_PORTABLE: return 1;
    case PATH_AVX2: return (f & CKERNELS_FEAT_AVX2) != 0;
    case PATH_AVX512VNNI: {
        const uint32_t need = CKERNELS_FEAT_AVX512F | CKERNELS_FEAT_AVX512BW | CKERNELS_FEAT_AVX512VL |
                              CKERNELS_FEAT_AVX512DQ | CKERNELS_FEAT_AVX512VNNI;
        return (f & need) == need;
    }
    default: return 0;
    }
}

/* ---- Packing ---- */

static size_t groups_of(size_t m) { return (m + WROWS - 1) / WROWS; }

/* k chunks (ckernels_w8a8.h): chunk c holds k [WCHUNK * c, WCHUNK * (c + 1)) of every group, group after
 * group; the last chunk may be shorter. */
#define WCHUNK CKERNELS_W8A8_CHUNK
static inline size_t chunks_of(size_t k) { return (k + WCHUNK - 1) / WCHUNK; }
static inline size_t chunk_k(size_t k, size_t c) { return wmin(WCHUNK, k - c * WCHUNK); }
/* Byte offset of group g's segment (16 rows x chunk_k bytes) in chunk c, in a matrix of ng groups. */
static inline size_t seg_offset(size_t ng, size_t k, size_t g, size_t c) {
    return c * ng * WROWS * WCHUNK + g * WROWS * chunk_k(k, c);
}

size_t ckernels_w8a8_packed_bytes(size_t m, size_t k) {
    const size_t g = groups_of(m);
    return g * WROWS * k + g * WROWS * sizeof(float);
}

void ckernels_w8a8_pack(size_t m, size_t k, const int8_t *qw, const float *sw, void *dst) {
    const size_t ng = groups_of(m);
    uint8_t *d = (uint8_t *)dst;
    float *scale = (float *)(d + ng * WROWS * k);
    for (size_t g = 0; g < ng; g++) {
        for (size_t c = 0; c < chunks_of(k); c++) {
            uint8_t *gd = d + seg_offset(ng, k, g, c);
            const size_t k0 = c * WCHUNK;
            for (size_t s = 0; s < chunk_k(k, c) / 4; s++)
                for (size_t r = 0; r < WROWS; r++) {
                    const size_t row = g * WROWS + r;
                    for (size_t e = 0; e < 4; e++)
                        gd[s * 64 + r * 4 + e] =
                            row < m ? (uint8_t)((uint8_t)qw[row * k + k0 + 4 * s + e] ^ 0x80u) : 0x80u;
                }
        }
        for (size_t r = 0; r < WROWS; r++) {
            const size_t row = g * WROWS + r;
            scale[g * WROWS + r] = row < m ? sw[row] : 0.0f;
        }
    }
}

/* ---- Activations ---- */

size_t ckernels_w8a8_act_bytes(size_t n, size_t k) { return round64(n * k) + round64(n * 8); }

static inline float *act_scales(size_t n, size_t k, const void *act) {
    return (float *)((uint8_t *)act + round64(n * k));
}
static inline int32_t *act_corr(size_t n, size_t k, const void *act) {
    return (int32_t *)((uint8_t *)act + round64(n * k) + n * sizeof(float));
}
/* Byte of token t's step 0 and the step stride (c * 4). */
static inline size_t act_token_offset(size_t n, size_t k, size_t t, size_t *stride) {
    const size_t j = t / WTILE, p = t % WTILE, c = wmin(WTILE, n - j * WTILE);
    *stride = c * 4;
    return j * WTILE * k + p * 4;
}

static void act_quantize_portable(size_t n0, size_t n1, size_t n, size_t k, const float *x, size_t ldx,
                                  void *act) {
    float *sx = act_scales(n, k, act);
    int32_t *corr = act_corr(n, k, act);
    for (size_t t = n0; t < n1; t++) {
        const float *xt = x + t * ldx;
        size_t stride;
        int8_t *dst = (int8_t *)act + act_token_offset(n, k, t, &stride);
        float amax = 0.0f;
        for (size_t j = 0; j < k; j++) {
            const float a = fabsf(xt[j]);
            if (a > amax) amax = a;
        }
        const float s = amax / 127.0f;
        int32_t sum = 0;
        for (size_t j = 0; j < k; j++) {
            const int8_t q = s == 0.0f ? 0 : quant_one(xt[j], s);
            dst[(j / 4) * stride + j % 4] = q;
            sum += q;
        }
        sx[t] = s;
        corr[t] = -128 * sum;
    }
}

void ckernels_w8a8_act_unpack(size_t n, size_t k, const void *act, size_t t, int8_t *q, float *scale) {
    size_t stride;
    const int8_t *src = (const int8_t *)act + act_token_offset(n, k, t, &stride);
    for (size_t j = 0; j < k; j++) q[j] = src[(j / 4) * stride + j % 4];
    *scale = act_scales(n, k, act)[t];
}

/* ---- Portable GEMM ---- */

void ckernels_w8a8_gemm_portable(size_t m, size_t n, size_t k, const int8_t *qw, const float *sw, const void *act,
                                 float *y, size_t ldy, size_t m0, size_t m1) {
    (void)m;
    const float *sx = act_scales(n, k, act);
    for (size_t t = 0; t < n; t++) {
        size_t stride;
        const int8_t *xa = (const int8_t *)act + act_token_offset(n, k, t, &stride);
        for (size_t i = m0; i < m1; i++) {
            const int8_t *w = qw + i * k;
            int32_t dot = 0;
            for (size_t s = 0; s < k / 4; s++)
                for (size_t e = 0; e < 4; e++) dot += (int32_t)w[4 * s + e] * (int32_t)xa[s * stride + e];
            const float sc = sx[t] * sw[i];
            y[t * ldy + i] = sc * (float)dot;
        }
    }
}

#if defined(__x86_64__)

/* The lanes of rows [lo, hi) in the 16-row group starting at row `base` (base < hi). */
static inline __mmask16 rows_mask(size_t base, size_t lo, size_t hi) {
    const size_t first = base < lo ? lo - base : 0, last = wmin(16, hi - base);
    return (__mmask16)(((1u << last) - 1) & ~((1u << first) - 1));
}

/* ---- AVX512-VNNI ---- */

#define V5_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/* Quantizes one 16-float vector (lanes beyond `mask` are 0) by the scalar rule: x / s, round half away
 * from zero (trunc, then +-1 where |fraction| >= 0.5: the fraction v - trunc(v) is exact), clamp. */
static inline V5_TARGET __m512i v5_quant16(__m512 x, __m512 s) {
    const __m512 v = _mm512_div_ps(x, s);
    const __m512 tr = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m512 fr = _mm512_sub_ps(v, tr);
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_and_ps(fr, absmask), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
    const __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_andnot_ps(absmask, v)); /* copysign(1, v) */
    __m512 r = _mm512_mask_add_ps(tr, up, tr, one);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    return _mm512_cvttps_epi32(r);
}

static V5_TARGET void act_quantize_avx512(size_t n0, size_t n1, size_t n, size_t k, const float *x, size_t ldx,
                                          void *act) {
    float *sx = act_scales(n, k, act);
    int32_t *corr = act_corr(n, k, act);
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (size_t t = n0; t < n1; t++) {
        const float *xt = x + t * ldx;
        size_t stride;
        uint8_t *dst = (uint8_t *)act + act_token_offset(n, k, t, &stride);
        __m512 mx0 = _mm512_setzero_ps(), mx1 = _mm512_setzero_ps();
        size_t j = 0;
        for (; j + 32 <= k; j += 32) {
            mx0 = _mm512_max_ps(mx0, _mm512_and_ps(_mm512_loadu_ps(xt + j), absmask));
            mx1 = _mm512_max_ps(mx1, _mm512_and_ps(_mm512_loadu_ps(xt + j + 16), absmask));
        }
        for (; j < k; j += 16) {
            const __mmask16 mk = (__mmask16)(k - j >= 16 ? 0xffff : (1u << (k - j)) - 1);
            mx0 = _mm512_max_ps(mx0, _mm512_and_ps(_mm512_maskz_loadu_ps(mk, xt + j), absmask));
        }
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(mx0, mx1));
        const float s = amax / 127.0f;
        sx[t] = s;
        if (s == 0.0f) {
            for (size_t q = 0; q < k / 4; q++) memset(dst + q * stride, 0, 4);
            corr[t] = 0;
            continue;
        }
        const __m512 sv = _mm512_set1_ps(s);
        __m512i sum = _mm512_setzero_si512();
        for (j = 0; j < k; j += 16) {
            const size_t left = k - j;
            const __mmask16 mk = (__mmask16)(left >= 16 ? 0xffff : (1u << left) - 1);
            const __m512i q = v5_quant16(_mm512_maskz_loadu_ps(mk, xt + j), sv);
            sum = _mm512_add_epi32(sum, q);
            const __m128i b = _mm512_cvtepi32_epi8(q);
            uint8_t *d = dst + (j / 4) * stride;
            const size_t steps = left >= 16 ? 4 : left / 4;
            int32_t w[4] = {_mm_cvtsi128_si32(b), _mm_extract_epi32(b, 1), _mm_extract_epi32(b, 2),
                            _mm_extract_epi32(b, 3)};
            for (size_t q4 = 0; q4 < steps; q4++) memcpy(d + q4 * stride, &w[q4], 4);
        }
        corr[t] = -128 * _mm512_reduce_add_epi32(sum);
    }
}

/* One pass: R row groups (g .. g + R - 1 of the ng groups of the packed matrix w) x C tokens (tile a, step
 * stride 4C) over all of k, chunk by chunk (in a chunk the R groups' segments are adjacent), then the
 * epilogue for rows [row0, row0 + 16R) masked to [lo, hi). */
static inline __attribute__((always_inline)) V5_TARGET void v5_pass(const int R, const int C, const uint8_t *w,
                                                                    size_t ng, size_t k, size_t g,
                                                                    const float *swg, const int8_t *a,
                                                                    const float *sx, const int32_t *corr,
                                                                    float *y, size_t ldy, size_t row0, size_t lo,
                                                                    size_t hi) {
    __m512i acc[4][12];
    for (int t = 0; t < C; t++) {
        const __m512i c0 = _mm512_set1_epi32(corr[t]);
        for (int r = 0; r < R; r++) acc[r][t] = c0;
    }
    for (size_t c = 0; c < chunks_of(k); c++) {
        const uint8_t *wg = w + seg_offset(ng, k, g, c);
        const size_t gstride = WROWS * chunk_k(k, c), steps = chunk_k(k, c) / 4;
        const int8_t *ac = a + c * WCHUNK * C;
        for (size_t s = 0; s < steps; s++) {
            __m512i wv[4];
            for (int r = 0; r < R; r++) wv[r] = _mm512_load_si512((const void *)(wg + r * gstride + s * 64));
            const int8_t *as = ac + s * 4 * C;
            for (int t = 0; t < C; t++) {
                int32_t b;
                memcpy(&b, as + 4 * t, 4);
                const __m512i bv = _mm512_set1_epi32(b);
                for (int r = 0; r < R; r++) acc[r][t] = _mm512_dpbusd_epi32(acc[r][t], wv[r], bv);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        const size_t base = row0 + 16 * (size_t)r;
        if (base >= hi) break;
        const __mmask16 mk = rows_mask(base, lo, hi);
        const __m512 swv = _mm512_loadu_ps(swg + 16 * r);
        for (int t = 0; t < C; t++) {
            const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(sx[t]), swv);
            const __m512 v = _mm512_mul_ps(sc, _mm512_cvtepi32_ps(acc[r][t]));
            _mm512_mask_storeu_ps(y + t * ldy + base, mk, v);
        }
    }
}

#define V5_ARGS                                                                                           \
    const uint8_t *w, size_t ng, size_t k, size_t g, const float *swg, const int8_t *a, const float *sx,  \
        const int32_t *corr, float *y, size_t ldy, size_t row0, size_t lo, size_t hi
typedef void (*v5_pass_fn)(V5_ARGS);
#define V5_DEF(R, C)                                                                                   \
    static V5_TARGET void v5_pass_##R##_##C(V5_ARGS) {                                                 \
        v5_pass(R, C, w, ng, k, g, swg, a, sx, corr, y, ldy, row0, lo, hi);                             \
    }
#define V5_DEF_R(R)                                                                                    \
    V5_DEF(R, 1) V5_DEF(R, 2) V5_DEF(R, 3) V5_DEF(R, 4) V5_DEF(R, 5) V5_DEF(R, 6) V5_DEF(R, 7)        \
        V5_DEF(R, 8) V5_DEF(R, 9) V5_DEF(R, 10) V5_DEF(R, 11) V5_DEF(R, 12)
V5_DEF_R(1)
V5_DEF_R(2)
#define V5_ROW(R)                                                                                      \
    {v5_pass_##R##_1, v5_pass_##R##_2, v5_pass_##R##_3, v5_pass_##R##_4, v5_pass_##R##_5,              \
     v5_pass_##R##_6, v5_pass_##R##_7, v5_pass_##R##_8, v5_pass_##R##_9, v5_pass_##R##_10,             \
     v5_pass_##R##_11, v5_pass_##R##_12}
static const v5_pass_fn v5_table1[12] = V5_ROW(1);
static const v5_pass_fn v5_table2[12] = V5_ROW(2);

/* GEMV (C <= WGEMV tokens): one group's segment in one chunk x the C tokens, with U independent int32
 * chains per token over alternating steps (one chain would wait on vpdpbusd's latency every 64 bytes;
 * int32 sums are exact in any order). The partial sums of rows [lo, hi) wait in Y, as int32 bits,
 * between chunks; the first chunk starts them at corr, the last converts and scales them. */
#define WGEMV 6
static inline __attribute__((always_inline)) V5_TARGET void v5_gemv_seg(const int C, const uint8_t *wg,
                                                                        size_t steps, const int8_t *a,
                                                                        const float *swg, const float *sx,
                                                                        const int32_t *corr, float *y,
                                                                        size_t ldy, size_t row0, size_t lo,
                                                                        size_t hi, int first, int last) {
    const int U = C <= 2 ? 4 : 2; /* chains per token: at most 12 accumulators */
    const __mmask16 mk = rows_mask(row0, lo, hi);
    __m512i acc[WGEMV][4];
    for (int t = 0; t < C; t++) {
        acc[t][0] = first ? _mm512_set1_epi32(corr[t]) : _mm512_maskz_loadu_epi32(mk, y + t * ldy + row0);
        for (int u = 1; u < U; u++) acc[t][u] = _mm512_setzero_si512();
    }
    size_t s = 0;
    for (; s + U <= steps; s += U)
        for (int u = 0; u < U; u++) {
            const __m512i wv = _mm512_load_si512((const void *)(wg + (s + u) * 64));
            for (int t = 0; t < C; t++) {
                int32_t b;
                memcpy(&b, a + (s + u) * 4 * C + 4 * t, 4);
                acc[t][u] = _mm512_dpbusd_epi32(acc[t][u], wv, _mm512_set1_epi32(b));
            }
        }
    for (; s < steps; s++) {
        const __m512i wv = _mm512_load_si512((const void *)(wg + s * 64));
        for (int t = 0; t < C; t++) {
            int32_t b;
            memcpy(&b, a + s * 4 * C + 4 * t, 4);
            acc[t][0] = _mm512_dpbusd_epi32(acc[t][0], wv, _mm512_set1_epi32(b));
        }
    }
    const __m512 swv = _mm512_loadu_ps(swg);
    for (int t = 0; t < C; t++) {
        __m512i sum = acc[t][0];
        for (int u = 1; u < U; u++) sum = _mm512_add_epi32(sum, acc[t][u]);
        if (last) {
            const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(sx[t]), swv);
            _mm512_mask_storeu_ps(y + t * ldy + row0, mk, _mm512_mul_ps(sc, _mm512_cvtepi32_ps(sum)));
        } else {
            _mm512_mask_storeu_epi32(y + t * ldy + row0, mk, sum);
        }
    }
}

#define V5G_ARGS                                                                                          \
    const uint8_t *wg, size_t steps, const int8_t *a, const float *swg, const float *sx, const int32_t *corr, \
        float *y, size_t ldy, size_t row0, size_t lo, size_t hi, int first, int last
typedef void (*v5_gemv_fn)(V5G_ARGS);
#define V5G_DEF(C)                                                                                    \
    static V5_TARGET void v5_gemv_##C(V5G_ARGS) {                                                     \
        v5_gemv_seg(C, wg, steps, a, swg, sx, corr, y, ldy, row0, lo, hi, first, last);               \
    }
V5G_DEF(1) V5G_DEF(2) V5G_DEF(3) V5G_DEF(4) V5G_DEF(5) V5G_DEF(6)
static const v5_gemv_fn v5_gemv_table[WGEMV] = {v5_gemv_1, v5_gemv_2, v5_gemv_3, v5_gemv_4, v5_gemv_5, v5_gemv_6};

static V5_TARGET void gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_packed, const void *act, float *y,
                                      size_t ldy, size_t m0, size_t m1) {
    if (m0 >= m1 || n == 0) return;
    const size_t ng = groups_of(m);
    const uint8_t *w = (const uint8_t *)w_packed;
    const float *sw = (const float *)(w + ng * WROWS * k);
    const float *sx = act_scales(n, k, act);
    const int32_t *corr = act_corr(n, k, act);
    const size_t g0 = m0 / WROWS, g1 = (m1 + WROWS - 1) / WROWS;
    if (n <= WGEMV) {
        /* GEMV: chunk by chunk, the slice's groups in order: one ascending weight stream, while the chunk's
         * activation (n x 1 KiB) stays in L1 */
        const v5_gemv_fn fn = v5_gemv_table[n - 1];
        const int8_t *a = (const int8_t *)act;
        const size_t chunks = k > 0 ? chunks_of(k) : 1; /* k = 0: one empty chunk, Y = 0 */
        for (size_t c = 0; c < chunks; c++)
            for (size_t g = g0; g < g1; g++)
                fn(w + seg_offset(ng, k, g, c), chunk_k(k, c) / 4, a + c * WCHUNK * n, sw + g * WROWS, sx, corr, y,
                   ldy, g * WROWS, m0, m1, c == 0, c + 1 == chunks);
        return;
    }
    const size_t tiles = (n + WTILE - 1) / WTILE;
    for (size_t g = g0; g < g1;) {
        const size_t R = g1 - g >= 2 ? 2 : 1;
        for (size_t j = 0; j < tiles; j++) {
            const size_t t0 = j * WTILE, c = wmin(WTILE, n - t0);
            const int8_t *a = (const int8_t *)act + t0 * k;
            const v5_pass_fn fn = R == 2 ? v5_table2[c - 1] : v5_table1[c - 1];
            fn(w, ng, k, g, sw + g * WROWS, a, sx + t0, corr + t0, y + t0 * ldy, ldy, g * WROWS, m0, m1);
        }
        g += R;
    }
}

void ckernels_w8a8_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_packed, const void *act, float *y,
                                   size_t ldy, size_t m0, size_t m1) {
    gemm_avx512vnni(m, n, k, w_packed, act, y, ldy, m0, m1);
}

/* ---- AVX2 ---- */

#define A2_TARGET __attribute__((target("avx2")))

/* One group (16 rows = 2 ymm halves) x C <= 4 tokens. vpmaddubsw must not saturate: its u8 operand is
 * |qw| (<= 127) and its s8 operand qx * sign(qw) (|.| <= 127), so a pair sums to at most 2 * 127 * 127 =
 * 32258 < 32767; vpmaddwd against ones widens to int32. That is the signed dot directly (no corr). */
static inline __attribute__((always_inline)) A2_TARGET void a2_pass(const int C, const uint8_t *w, size_t ng,
                                                                    size_t k, size_t g, const float *swg,
                                                                    const int8_t *a, size_t astride,
                                                                    const float *sx, float *y, size_t ldy,
                                                                    size_t row0, size_t lo, size_t hi) {
    __m256i acc[2][4];
    for (int t = 0; t < C; t++) acc[0][t] = acc[1][t] = _mm256_setzero_si256();
    const __m256i flip = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    for (size_t c = 0; c < chunks_of(k); c++) {
        const uint8_t *wg = w + seg_offset(ng, k, g, c);
        const int8_t *ac = a + c * (WCHUNK / 4) * astride;
        for (size_t s = 0; s < chunk_k(k, c) / 4; s++) {
            const __m256i w0 = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(wg + s * 64)), flip);
            const __m256i w1 = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(wg + s * 64 + 32)), flip);
            const __m256i aw0 = _mm256_abs_epi8(w0), aw1 = _mm256_abs_epi8(w1);
            const int8_t *as = ac + s * astride;
            for (int t = 0; t < C; t++) {
                int32_t b;
                memcpy(&b, as + 4 * t, 4);
                const __m256i bv = _mm256_set1_epi32(b);
                const __m256i p0 = _mm256_maddubs_epi16(aw0, _mm256_sign_epi8(bv, w0));
                const __m256i p1 = _mm256_maddubs_epi16(aw1, _mm256_sign_epi8(bv, w1));
                acc[0][t] = _mm256_add_epi32(acc[0][t], _mm256_madd_epi16(p0, ones));
                acc[1][t] = _mm256_add_epi32(acc[1][t], _mm256_madd_epi16(p1, ones));
            }
        }
    }
    const int full = row0 >= lo && row0 + 16 <= hi;
    for (int h = 0; h < 2; h++) {
        const __m256 swv = _mm256_loadu_ps(swg + 8 * h);
        for (int t = 0; t < C; t++) {
            const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(sx[t]), swv);
            const __m256 v = _mm256_mul_ps(sc, _mm256_cvtepi32_ps(acc[h][t]));
            float *dst = y + t * ldy + row0 + 8 * h;
            if (full) {
                _mm256_storeu_ps(dst, v);
            } else {
                float tmp[8];
                _mm256_storeu_ps(tmp, v);
                for (size_t e = 0; e < 8; e++) {
                    const size_t row = row0 + 8 * h + e;
                    if (row >= lo && row < hi) dst[e] = tmp[e];
                }
            }
        }
    }
}

#define A2_ARGS                                                                                          \
    const uint8_t *w, size_t ng, size_t k, size_t g, const float *swg, const int8_t *a, size_t astride,   \
        const float *sx, float *y, size_t ldy, size_t row0, size_t lo, size_t hi
typedef void (*a2_pass_fn)(A2_ARGS);
#define A2_DEF(C)                                                                    \
    static A2_TARGET void a2_pass_##C(A2_ARGS) {                                     \
        a2_pass(C, w, ng, k, g, swg, a, astride, sx, y, ldy, row0, lo, hi);          \
    }
A2_DEF(1) A2_DEF(2) A2_DEF(3) A2_DEF(4)
static const a2_pass_fn a2_table[4] = {a2_pass_1, a2_pass_2, a2_pass_3, a2_pass_4};

void ckernels_w8a8_gemm_avx2(size_t m, size_t n, size_t k, const void *w_packed, const void *act, float *y,
                             size_t ldy, size_t m0, size_t m1) {
    if (m0 >= m1 || n == 0) return;
    const size_t ng = groups_of(m);
    const uint8_t *w = (const uint8_t *)w_packed;
    const float *sw = (const float *)(w + ng * WROWS * k);
    const float *sx = act_scales(n, k, act);
    const size_t g0 = m0 / WROWS, g1 = (m1 + WROWS - 1) / WROWS;
    const size_t tiles = (n + WTILE - 1) / WTILE;
    for (size_t g = g0; g < g1; g++)
        for (size_t j = 0; j < tiles; j++) {
            const size_t t0 = j * WTILE, c = wmin(WTILE, n - t0);
            const int8_t *a = (const int8_t *)act + t0 * k;
            for (size_t p = 0; p < c; p += 4) {
                const size_t cc = wmin(4, c - p);
                a2_table[cc - 1](w, ng, k, g, sw + g * WROWS, a + 4 * p, 4 * c, sx + t0 + p, y + (t0 + p) * ldy, ldy,
                                 g * WROWS, m0, m1);
            }
        }
}

void ckernels_w8a8_act_quantize(int path, size_t n0, size_t n1, size_t n, size_t k, const float *x, size_t ldx,
                                void *act) {
    if (path == PATH_AVX512VNNI && ckernels_w8a8_path_supported(PATH_AVX512VNNI))
        act_quantize_avx512(n0, n1, n, k, x, ldx, act);
    else
        act_quantize_portable(n0, n1, n, k, x, ldx, act);
}

#else /* not x86-64: the SIMD entry points exist (ckernels_w8a8_path_supported says 0) and are never called */

void ckernels_w8a8_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w, const void *act, float *y,
                                   size_t ldy, size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}
void ckernels_w8a8_gemm_avx2(size_t m, size_t n, size_t k, const void *w, const void *act, float *y, size_t ldy,
                             size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}
void ckernels_w8a8_act_quantize(int path, size_t n0, size_t n1, size_t n, size_t k, const float *x, size_t ldx,
                                void *act) {
    (void)path;
    act_quantize_portable(n0, n1, n, k, x, ldx, act);
}
#endif
