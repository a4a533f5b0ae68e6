/* GGUF-compatible quantized GEMV / GEMM: q8_0 and q4_0 weights x q8_0-quantized activations.
 *
 * Contract and layouts: ckernels_quant.h. This file holds
 *   - the fp16 conversions and the q8_0 / q4_0 row (de)quantizers, bit-exact with ggml's *_ref rules;
 *   - the exact reference (block dots, ckernels_q*_gemm_ref);
 *   - the weight repacking (GGUF rows -> 16-row interleaved groups) and the activation quantizer;
 *   - three GEMM paths with one numeric contract: AVX512-VNNI, AVX2, portable.
 *
 * Why these layouts (Zen 4 figures; the reasoning holds for any AVX512-VNNI core):
 *
 *  - vpdpbusd multiplies unsigned bytes by signed bytes, 4 per 32-bit lane, and adds the 4 products to
 *    the lane. With the 16 lanes of a zmm = 16 weight rows, each lane holding 4 consecutive k of its row,
 *    and the second operand one token's 4 activation bytes broadcast to every lane (an embedded {1to16}
 *    broadcast: a load, no shuffle), one instruction does 64 multiply-adds for 16 outputs and no
 *    horizontal reduction is ever needed. Over a block (32 k) 8 such steps give the 16 rows' exact int32
 *    block dots in one register, ready to be scaled by the 16 weight scales (one vcvtph2ps) times the
 *    token's scale. This is the rows-in-lanes shape llama.cpp's q4_0_8x8 and ORT's MatMulNBits also use.
 *  - The weight operand must be the unsigned one. q4_0 nibbles are 0..15 already; q8_0 values are stored
 *    + 128 (XOR 0x80) at repack time. Both offsets (8 and 128) times the token's block sum sum(qx) are
 *    subtracted through the activation record's `corr` word (computed once per token and block by the
 *    quantizer), which is the initial value of the int32 accumulator: no per-row correction data, no
 *    extra instruction in the loop, and the repacked weights keep the GGUF size.
 *  - q4_0: vector g holds the rows' GGUF bytes qs[4g..4g+3] unchanged, so its low nibbles are elements
 *    4g..4g+3 and its high nibbles elements 16+4g..16+4g+3: unpacking is vpand and vpsrlw+vpand, and
 *    the repack is a 4-byte transpose.
 *  - Blocks are stored in pairs, [scales b][scales b+1][vectors b][vectors b+1]: 576 bytes (q4_0) or
 *    1088 bytes (q8_0), both multiples of 64, so every weight vector load is an aligned, single-line load,
 *    and a row group segment is read strictly front to back (what the hardware prefetchers follow best).
 *  - Pairs are stored in k chunks of 32 blocks, chunk-major (chunk 0 of every row group, then chunk 1...):
 *    a GEMV's weights are then one ascending stream while each chunk's activation stays in L1.
 *
 * Schedule (AVX512-VNNI): one pass = one row group segment (16 rows x one k chunk of 32 blocks) x one
 * activation tile (c <= 8 tokens), with c int32 and c fp32 accumulators in registers (the fp32 ones
 * continue from Y after the first chunk); the 16-row weight vectors are loaded (and for q4_0 unpacked)
 * once per block and used by the c tokens.
 *  - GEMV (n <= 8, one tile): chunk by chunk, the slice's row groups in order, i.e. the weights as one
 *    ascending stream (a chunk's segments of consecutive groups are adjacent), while the chunk's
 *    activation records (32 x 40 bytes per token) stay in L1 for every group. Measured from DRAM on
 *    Zen 4 (4096 x 4096, rotating through 160 MB), each kernel alternating with a plain read:
 *      - one stream ran 5-25% faster than passes over 2 or 4 row groups at once (2 or 4 streams 36 /
 *        68 KiB apart); software prefetching (T0, T1 or NTA, 0.5-16 KiB ahead) always lowered the
 *        bandwidth, even for a plain read: the hardware prefetchers do better alone;
 *      - storing each pair's scales before its vectors (so the stream is strictly ascending) raised the
 *        DRAM bandwidth by ~20% over scales-after-vectors, and loads issued out of address order within
 *        a pair (the compiler's choice in one variant) cost ~15%;
 *      - with whole rows per group (no k chunks) the activation records were evicted by each group's
 *        36-130 KiB of weights and refetched by the next: on a busy host q4_0 fell to 75-80% of the
 *        read's bandwidth, while the same kernel with its activation pinned in L1 kept 97-101%, as do
 *        the k chunks (a read of the activation misses is a second stream the prefetchers serve badly).
 *  - GEMM (n > 8): tiles of 8 tokens. Loop nest:
 *      for each span of tiles (about 320 KiB of activation records: L2)
 *        for each row group of the slice (its weights, 36 / 68 KiB for k = 4096: L2, read once per tile)
 *          for each tile of the span: a pass per k chunk
 *    Per block and accumulator the int32 -> fp32 step costs vcvtdq2ps + vmulps + vfmadd against 8
 *    vpdpbusd; with operands in L1 a pass runs at ~83 cycles per block (~77% of the vpdpbusd peak: the
 *    multiply and fma compete with vpdpbusd for the same two pipes).
 *
 * Numerics (all paths): the block dot is exact in int32; d_w * d_x is exact in fp32 (two 11-bit
 * significands); each output is acc = fma(d_w * d_x, (float)dot, acc) over blocks in order from +0.
 * SIMD paths keep one output per lane, so they follow that order exactly, and the portable path and the
 * reference use fmaf. The outputs of every path are therefore identical bit for bit.
 */
#include "ckernels.h"
#include "ckernels_quant.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#define QK CKERNELS_QK
#define QROWS CKERNELS_QREPACK_ROWS
#define QTILE CKERNELS_QACT_TILE
#define QREC 40 /* bytes per token in an activation block record: 32 qs + 4 d + 4 corr */

/* Repacked bytes per row group and block: vectors of one block, and a pair of blocks with scales. */
#define Q8_VEC_BYTES (QROWS * QK)     /* 512: 8 vectors */
#define Q4_VEC_BYTES (QROWS * QK / 2) /* 256: 4 vectors */
#define Q8_PAIR_BYTES (2 * Q8_VEC_BYTES + 64)
#define Q4_PAIR_BYTES (2 * Q4_VEC_BYTES + 64)

_Static_assert(sizeof(ckernels_block_q8_0) == CKERNELS_Q8_0_BLOCK_BYTES, "block_q8_0 must be 34 bytes");
_Static_assert(sizeof(ckernels_block_q4_0) == CKERNELS_Q4_0_BLOCK_BYTES, "block_q4_0 must be 18 bytes");
_Static_assert(Q8_PAIR_BYTES % 64 == 0 && Q4_PAIR_BYTES % 64 == 0, "block pairs must keep 64-byte alignment");

static inline size_t qmin(size_t a, size_t b) { return a < b ? a : b; }

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ============================================ fp16 ============================================ */

/* ggml_compute_fp32_to_fp16 (from the FP16 library): the rounding is done by an fp32 addition that
 * aligns the value's significand to fp16 precision (round to nearest even, subnormals included). */
static inline uint16_t fp32_to_fp16(float f) {
    const float scale_to_inf = 0x1.0p+112f;
    const float scale_to_zero = 0x1.0p-110f;
    float base = (fabsf(f) * scale_to_inf) * scale_to_zero;
    const uint32_t w = f32_bits(f);
    const uint32_t shl1_w = w + w;
    const uint32_t sign = w & 0x80000000u;
    uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = f32_from_bits((bias >> 1) + 0x07800000u) + base;
    const uint32_t bits = f32_bits(base);
    const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const uint32_t mantissa_bits = bits & 0x00000FFFu;
    const uint32_t nonsign = exp_bits + mantissa_bits;
    return (uint16_t)((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

static inline float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13));
    if (exp == 0) {
        const float f = (float)mant * 0x1.0p-24f; /* exact: at most 10 significant bits */
        return sign ? -f : f;
    }
    return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t ckernels_fp32_to_fp16(float x) { return fp32_to_fp16(x); }
float ckernels_fp16_to_fp32(uint16_t h) { return fp16_to_fp32(h); }

/* ===================================== row (de)quantization ===================================== */

/* One q8_0 block by ggml's quantize_row_q8_0_ref: amax = max |x|, d = amax / 127, qs = roundf(x / d)
 * computed as x * (1 / d). Returns sum(qs) (the activation quantizer needs it). */
static inline int32_t quantize_block_q8_0(const float *x, ckernels_block_q8_0 *y) {
    float amax = 0.0f;
    for (int j = 0; j < QK; j++) {
        const float v = fabsf(x[j]);
        amax = amax > v ? amax : v; /* ggml's MAX(amax, v) */
    }
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y->d = fp32_to_fp16(d);
    int32_t sum = 0;
    for (int j = 0; j < QK; j++) {
        const int8_t q = (int8_t)roundf(x[j] * id);
        y->qs[j] = q;
        sum += q;
    }
    return sum;
}

void ckernels_quantize_row_q8_0(const float *x, ckernels_block_q8_0 *y, size_t k) {
    for (size_t b = 0; b < k / QK; b++) quantize_block_q8_0(x + b * QK, y + b);
}

/* ggml's quantize_row_q4_0_ref: max = the first element of largest |x| (signed), d = max / -8, so that
 * element maps to nibble 0 and the range [-8, 7] is used asymmetrically; nibble = min(15, trunc(x/d + 8.5)). */
void ckernels_quantize_row_q4_0(const float *x, ckernels_block_q4_0 *y, size_t k) {
    for (size_t b = 0; b < k / QK; b++, x += QK) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            const float v = x[j];
            if (amax < fabsf(v)) {
                amax = fabsf(v);
                max = v;
            }
        }
        const float d = max / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = fp32_to_fp16(d);
        for (int j = 0; j < QK / 2; j++) {
            const float x0 = x[j] * id, x1 = x[QK / 2 + j] * id;
            const int8_t t0 = (int8_t)(x0 + 8.5f), t1 = (int8_t)(x1 + 8.5f);
            const uint8_t xi0 = (uint8_t)(t0 < 15 ? t0 : 15), xi1 = (uint8_t)(t1 < 15 ? t1 : 15);
            y[b].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

void ckernels_dequantize_row_q8_0(const ckernels_block_q8_0 *x, float *y, size_t k) {
    for (size_t b = 0; b < k / QK; b++) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < QK; j++) y[b * QK + j] = x[b].qs[j] * d;
    }
}

void ckernels_dequantize_row_q4_0(const ckernels_block_q4_0 *x, float *y, size_t k) {
    for (size_t b = 0; b < k / QK; b++) {
        const float d = fp16_to_fp32(x[b].d);
        for (int j = 0; j < QK / 2; j++) {
            y[b * QK + j] = ((x[b].qs[j] & 0x0F) - 8) * d;
            y[b * QK + j + QK / 2] = ((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

/* ======================================= exact reference ======================================= */

int32_t ckernels_q8_0_block_dot(const ckernels_block_q8_0 *w, const ckernels_block_q8_0 *x) {
    int32_t s = 0;
    for (int j = 0; j < QK; j++) s += (int32_t)w->qs[j] * x->qs[j];
    return s;
}

int32_t ckernels_q4_0_block_dot(const ckernels_block_q4_0 *w, const ckernels_block_q8_0 *x) {
    int32_t s = 0;
    for (int j = 0; j < QK / 2; j++) {
        s += ((w->qs[j] & 0x0F) - 8) * (int32_t)x->qs[j];
        s += ((w->qs[j] >> 4) - 8) * (int32_t)x->qs[j + QK / 2];
    }
    return s;
}

void ckernels_q8_0_gemm_ref(size_t m, size_t n, size_t k, const ckernels_block_q8_0 *w,
                            const ckernels_block_q8_0 *xq, float *y, size_t ldy) {
    const size_t nb = k / QK;
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < m; i++) {
            float acc = 0.0f;
            for (size_t b = 0; b < nb; b++) {
                const float s = fp16_to_fp32(w[i * nb + b].d) * fp16_to_fp32(xq[t * nb + b].d);
                acc = fmaf(s, (float)ckernels_q8_0_block_dot(w + i * nb + b, xq + t * nb + b), acc);
            }
            y[t * ldy + i] = acc;
        }
}

void ckernels_q4_0_gemm_ref(size_t m, size_t n, size_t k, const ckernels_block_q4_0 *w,
                            const ckernels_block_q8_0 *xq, float *y, size_t ldy) {
    const size_t nb = k / QK;
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < m; i++) {
            float acc = 0.0f;
            for (size_t b = 0; b < nb; b++) {
                const float s = fp16_to_fp32(w[i * nb + b].d) * fp16_to_fp32(xq[t * nb + b].d);
                acc = fmaf(s, (float)ckernels_q4_0_block_dot(w + i * nb + b, xq + t * nb + b), acc);
            }
            y[t * ldy + i] = acc;
        }
}

/* ========================================= paths ========================================= */

int ckernels_qpath_supported(int path) {
    const uint32_t f = ckernels_cpu_features();
    switch (path) {
    case CKERNELS_QPATH_PORTABLE: return 1;
    case CKERNELS_QPATH_AVX2: {
        const uint32_t need = CKERNELS_FEAT_AVX2 | CKERNELS_FEAT_FMA | CKERNELS_FEAT_F16C;
        return (f & need) == need;
    }
    case CKERNELS_QPATH_AVX512VNNI: {
        const uint32_t need = CKERNELS_FEAT_AVX512F | CKERNELS_FEAT_AVX512BW | CKERNELS_FEAT_AVX512VL |
                              CKERNELS_FEAT_AVX512DQ | CKERNELS_FEAT_AVX512VNNI | CKERNELS_FEAT_F16C |
                              CKERNELS_FEAT_FMA;
        return (f & need) == need;
    }
    default: return 0;
    }
}

/* ========================================= repacking ========================================= */

static size_t groups_of(size_t m) { return (m + QROWS - 1) / QROWS; }
static size_t q8_group_bytes(size_t k) { return (k / QK + 1) / 2 * Q8_PAIR_BYTES; }
static size_t q4_group_bytes(size_t k) { return (k / QK + 1) / 2 * Q4_PAIR_BYTES; }

/* k chunks (ckernels_quant.h): the repacked matrix is stored chunk after chunk, and within chunk c the
 * row groups' segments (their pairs of blocks [QCHUNK * c, QCHUNK * (c + 1))) group after group. */
#define QCHUNK CKERNELS_QREPACK_CHUNK_BLOCKS
#define QCHUNK_PAIRS (QCHUNK / 2)
_Static_assert(QCHUNK % 2 == 0, "a k chunk must hold whole pairs of blocks");

static inline size_t chunks_of(size_t nb) { return (nb + QCHUNK - 1) / QCHUNK; }

/* Byte offset of pair p (counted over the whole row) of row group g, in a matrix of G groups and nb
 * blocks per row: earlier chunks are full (G * QCHUNK_PAIRS pairs each); in p's chunk, the earlier groups'
 * segments come first. */
static inline size_t pair_offset(size_t G, size_t nb, size_t pair_bytes, size_t g, size_t p) {
    const size_t c = p / QCHUNK_PAIRS, within = p % QCHUNK_PAIRS;
    const size_t chunk_pairs = qmin(QCHUNK_PAIRS, (nb + 1) / 2 - c * QCHUNK_PAIRS);
    return ((c * G * QCHUNK_PAIRS) + g * chunk_pairs + within) * pair_bytes;
}

/* Group g's segment in k chunk ci: its first byte, and in *blocks its block count (QCHUNK, or fewer in the
 * last chunk). */
static inline const uint8_t *chunk_segment(const uint8_t *w, size_t G, size_t nb, size_t pair_bytes, size_t g,
                                           size_t ci, size_t *blocks) {
    *blocks = qmin(QCHUNK, nb - ci * QCHUNK);
    return w + pair_offset(G, nb, pair_bytes, g, ci * QCHUNK_PAIRS);
}

size_t ckernels_q8_0_repacked_bytes(size_t m, size_t k) { return groups_of(m) * q8_group_bytes(k); }
size_t ckernels_q4_0_repacked_bytes(size_t m, size_t k) { return groups_of(m) * q4_group_bytes(k); }

void ckernels_q8_0_repack(size_t m, size_t k, const ckernels_block_q8_0 *w, void *dst) {
    const size_t nb = k / QK, G = groups_of(m);
    uint8_t *out = (uint8_t *)dst;
    memset(out, 0, ckernels_q8_0_repacked_bytes(m, k));
    for (size_t g = 0; g < G; g++) {
        for (size_t b = 0; b < nb; b++) {
            uint8_t *pair = out + pair_offset(G, nb, Q8_PAIR_BYTES, g, b / 2);
            uint8_t *vec = pair + 64 + (b & 1) * Q8_VEC_BYTES;
            uint16_t *scales = (uint16_t *)(pair + (b & 1) * 32);
            for (size_t r = 0; r < QROWS; r++) {
                const size_t row = g * QROWS + r;
                for (size_t j = 0; j < QK; j++) {
                    /* vector j/4, lane r, byte j%4; padding rows hold weight 0 (byte 0x80), scale 0 */
                    const int8_t q = row < m ? w[row * nb + b].qs[j] : 0;
                    vec[(j / 4) * 64 + r * 4 + (j % 4)] = (uint8_t)q ^ 0x80u;
                }
                scales[r] = row < m ? w[row * nb + b].d : 0;
            }
        }
    }
}

void ckernels_q4_0_repack(size_t m, size_t k, const ckernels_block_q4_0 *w, void *dst) {
    const size_t nb = k / QK, G = groups_of(m);
    uint8_t *out = (uint8_t *)dst;
    memset(out, 0, ckernels_q4_0_repacked_bytes(m, k));
    for (size_t g = 0; g < G; g++) {
        for (size_t b = 0; b < nb; b++) {
            uint8_t *pair = out + pair_offset(G, nb, Q4_PAIR_BYTES, g, b / 2);
            uint8_t *vec = pair + 64 + (b & 1) * Q4_VEC_BYTES;
            uint16_t *scales = (uint16_t *)(pair + (b & 1) * 32);
            for (size_t r = 0; r < QROWS; r++) {
                const size_t row = g * QROWS + r;
                for (size_t j = 0; j < QK / 2; j++) {
                    /* padding rows: nibbles 8 (weight 0), scale 0 */
                    vec[(j / 4) * 64 + r * 4 + (j % 4)] = row < m ? w[row * nb + b].qs[j] : 0x88;
                }
                scales[r] = row < m ? w[row * nb + b].d : 0;
            }
        }
    }
}

/* ===================================== activation quantizer ===================================== */

size_t ckernels_qact_bytes(size_t n, size_t k) { return n * (k / QK) * QREC; }

/* The record of token t, block b, and the token's slot (ti) and count (c) in its tile. */
static inline uint8_t *qact_record(uint8_t *act, size_t n, size_t nb, size_t t, size_t b, size_t *c, size_t *ti) {
    const size_t j = t / QTILE;
    *c = qmin(QTILE, n - j * QTILE);
    *ti = t - j * QTILE;
    return act + j * QTILE * QREC * nb + b * (*c) * QREC;
}

static inline int32_t corr_multiplier(int format) { return format == CKERNELS_QFORMAT_Q4_0 ? 8 : 128; }

static void qact_quantize_portable(int format, size_t n0, size_t n1, size_t n, size_t k, const float *x,
                                   size_t ldx, uint8_t *act) {
    const size_t nb = k / QK;
    const int32_t mult = corr_multiplier(format);
    for (size_t t = n0; t < n1; t++)
        for (size_t b = 0; b < nb; b++) {
            size_t c, ti;
            uint8_t *rec = qact_record(act, n, nb, t, b, &c, &ti);
            ckernels_block_q8_0 blk;
            const int32_t sum = quantize_block_q8_0(x + t * ldx + b * QK, &blk);
            const float d = fp16_to_fp32(blk.d);
            const int32_t corr = -mult * sum;
            memcpy(rec + ti * QK, blk.qs, QK);
            memcpy(rec + c * QK + ti * 4, &d, 4);
            memcpy(rec + c * (QK + 4) + ti * 4, &corr, 4);
        }
}

#if defined(__x86_64__)
#define QV_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,f16c,fma")))

/* The same bytes as the portable quantizer: vmaxps over |x| is the same maximum (inputs are finite),
 * d and 1/d are the same scalar operations, x * id is the same fp32 product, and roundf (half away from
 * zero) is rebuilt exactly: t = trunc(v); v - t is exact (|v| <= 127.5), and |v - t| >= 0.5 moves t one
 * step away from zero. */
QV_TARGET static void qact_quantize_avx512(int format, size_t n0, size_t n1, size_t n, size_t k, const float *x,
                                           size_t ldx, uint8_t *act) {
    const size_t nb = k / QK;
    const int32_t mult = corr_multiplier(format);
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    for (size_t t = n0; t < n1; t++) {
        const float *xt = x + t * ldx;
        for (size_t b = 0; b < nb; b++) {
            size_t c, ti;
            uint8_t *rec = qact_record(act, n, nb, t, b, &c, &ti);
            __m512 v0 = _mm512_loadu_ps(xt + b * QK), v1 = _mm512_loadu_ps(xt + b * QK + 16);
            const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
            const float d = amax / 127;
            const float id = d != 0.0f ? 1.0f / d : 0.0f;
            const uint16_t dh = fp32_to_fp16(d);
            __m512i q[2];
            for (int h = 0; h < 2; h++) {
                const __m512 v = _mm512_mul_ps(h ? v1 : v0, _mm512_set1_ps(id));
                __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
                const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, r)), half, _CMP_GE_OQ);
                const __m512 step = _mm512_castsi512_ps(
                    _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), sign), _mm512_castps_si512(one)));
                r = _mm512_mask_add_ps(r, up, r, step);
                q[h] = _mm512_cvttps_epi32(r);
                _mm_storeu_si128((__m128i *)(rec + ti * QK + 16 * h), _mm512_cvtepi32_epi8(q[h]));
            }
            const int32_t corr = -mult * _mm512_reduce_add_epi32(_mm512_add_epi32(q[0], q[1]));
            const float dq = fp16_to_fp32(dh);
            memcpy(rec + c * QK + ti * 4, &dq, 4);
            memcpy(rec + c * (QK + 4) + ti * 4, &corr, 4);
        }
    }
}
#endif

void ckernels_qact_quantize(int path, int format, size_t n0, size_t n1, size_t n, size_t k, const float *x,
                            size_t ldx, void *act) {
#if defined(__x86_64__)
    if (path == CKERNELS_QPATH_AVX512VNNI) {
        qact_quantize_avx512(format, n0, n1, n, k, x, ldx, (uint8_t *)act);
        return;
    }
#endif
    (void)path;
    qact_quantize_portable(format, n0, n1, n, k, x, ldx, (uint8_t *)act);
}

void ckernels_qact_unpack(size_t n, size_t k, const void *act, size_t t, ckernels_block_q8_0 *dst) {
    const size_t nb = k / QK;
    for (size_t b = 0; b < nb; b++) {
        size_t c, ti;
        const uint8_t *rec = qact_record((uint8_t *)act, n, nb, t, b, &c, &ti);
        float d;
        memcpy(&d, rec + c * QK + ti * 4, 4);
        dst[b].d = fp32_to_fp16(d); /* exact: d is an fp16 value */
        memcpy(dst[b].qs, rec + ti * QK, QK);
    }
}

/* ======================================= portable path ======================================= */

/* GGUF weight rows x activation records, one row at a time against a whole tile (up to 8 tokens, whose
 * records are read from L1 while the row's blocks stream once per tile). */
#define PORTABLE_GEMM(NAME, BLOCK, DOT)                                                                        \
    void NAME(size_t m, size_t n, size_t k, const BLOCK *w, const void *act, float *y, size_t ldy, size_t m0,  \
              size_t m1) {                                                                                     \
        (void)m;                                                                                               \
        const size_t nb = k / QK;                                                                              \
        const uint8_t *a = (const uint8_t *)act;                                                               \
        for (size_t j = 0; j * QTILE < n; j++) {                                                               \
            const size_t c = qmin(QTILE, n - j * QTILE);                                                       \
            const uint8_t *tile = a + j * QTILE * QREC * nb;                                                   \
            for (size_t i = m0; i < m1; i++) {                                                                 \
                float acc[QTILE] = {0};                                                                        \
                for (size_t b = 0; b < nb; b++) {                                                              \
                    const BLOCK *wb = w + i * nb + b;                                                          \
                    const float dw = fp16_to_fp32(wb->d);                                                      \
                    const uint8_t *rec = tile + b * c * QREC;                                                  \
                    for (size_t t = 0; t < c; t++) {                                                           \
                        const int8_t *xq = (const int8_t *)(rec + t * QK);                                     \
                        float dx;                                                                              \
                        memcpy(&dx, rec + c * QK + t * 4, 4);                                                  \
                        int32_t dot = 0;                                                                       \
                        DOT;                                                                                   \
                        acc[t] = fmaf(dw * dx, (float)dot, acc[t]);                                            \
                    }                                                                                          \
                }                                                                                              \
                for (size_t t = 0; t < c; t++) y[(j * QTILE + t) * ldy + i] = acc[t];                          \
            }                                                                                                  \
        }                                                                                                      \
    }

PORTABLE_GEMM(ckernels_q8_0_gemm_portable, ckernels_block_q8_0,
              for (int e = 0; e < QK; e++) dot += (int32_t)wb->qs[e] * xq[e])
PORTABLE_GEMM(ckernels_q4_0_gemm_portable, ckernels_block_q4_0,
              for (int e = 0; e < QK / 2; e++) {
                  dot += ((wb->qs[e] & 0x0F) - 8) * (int32_t)xq[e];
                  dot += ((wb->qs[e] >> 4) - 8) * (int32_t)xq[e + QK / 2];
              })

/* ===================================== AVX512-VNNI path ===================================== */
#if defined(__x86_64__)

#define QV_ARGS const uint8_t *w, size_t nb, const uint8_t *tile, float *y, size_t ldy, size_t row0, size_t lo, size_t hi, int first
#define QV_PASS w, nb, tile, y, ldy, row0, lo, hi, first

/* One block of a pass: adds the block's terms for the T tokens to acc. wv: the block's vectors; dw: its 16
 * weight scales; xq: its activation record (T tokens). (Splitting each token's 8-deep vpdpbusd chain
 * into two for small T measured no faster: the pass is bound by vector-pipe throughput, not latency.) */
QV_TARGET static inline __attribute__((always_inline)) void qv_block(const int fmt, const int gfni, const int T,
                                                                     const uint8_t *wv, __m512 dw,
                                                                     const uint8_t *xq, __m512 *acc) {
    const float *dx = (const float *)(xq + (size_t)T * QK);
    const int32_t *corr = (const int32_t *)(xq + (size_t)T * (QK + 4));
    /* int32 accumulators start at corr: the dot over unsigned weights minus offset * sum(qx) */
    __m512i dot[QTILE];
    for (int t = 0; t < T; t++) dot[t] = _mm512_set1_epi32(corr[t]);
    if (fmt == 0) {
        for (int g = 0; g < 8; g++) {
            const __m512i v = _mm512_load_si512((const void *)(wv + 64 * g));
            for (int t = 0; t < T; t++) {
                int32_t xg;
                memcpy(&xg, xq + t * QK + 4 * g, 4);
                dot[t] = _mm512_dpbusd_epi32(dot[t], v, _mm512_set1_epi32(xg));
            }
        }
    } else {
        const __m512i nib = _mm512_set1_epi8(0x0F);
        for (int g = 0; g < 4; g++) {
            const __m512i v = _mm512_load_si512((const void *)(wv + 64 * g));
            const __m512i lo4 = _mm512_and_si512(v, nib);
            __m512i hi4;
            if (gfni) /* asm: the functions are compiled without the gfni target (see qv_gfni) */
                __asm__("vgf2p8affineqb $0, %2, %1, %0" : "=v"(hi4) : "v"(v), "v"(_mm512_set1_epi64(0x1020408000000000ll)));
            else
                hi4 = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
            for (int t = 0; t < T; t++) {
                int32_t x0, x1;
                memcpy(&x0, xq + t * QK + 4 * g, 4);
                memcpy(&x1, xq + t * QK + 16 + 4 * g, 4);
                dot[t] = _mm512_dpbusd_epi32(dot[t], lo4, _mm512_set1_epi32(x0));
                dot[t] = _mm512_dpbusd_epi32(dot[t], hi4, _mm512_set1_epi32(x1));
            }
        }
    }
    for (int t = 0; t < T; t++) {
        const __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(dx[t])); /* exact */
        acc[t] = _mm512_fmadd_ps(sc, _mm512_cvtepi32_ps(dot[t]), acc[t]);
    }
}

/* One pass: the 16 rows of the row group segment at w (rows row0 .. row0 + 15) x the T tokens of `tile`,
 * over the segment's nb blocks (one k chunk; `tile` points at the chunk's first record); stores Y for the
 * rows in [lo, hi). The fp32 accumulators start at +0 when `first` (the first chunk), otherwise at the
 * Y values the previous chunk's pass stored (exact: the same fma chain, paused in memory). fmt: 0 = q8_0,
 * 1 = q4_0. T is a constant at every call site, so the arrays become registers (T int32 + T fp32
 * accumulators, no spills). The loop walks block
 * pairs: the pair's 64-byte scale line is loaded once, then block b's vectors, then block b+1's, so the
 * weights are read strictly front to back with no line touched twice (measured: revisiting the scale
 * line for the odd block, or interleaving the two blocks' vector loads, lowered the bandwidth from L3
 * by 10-50%). */
QV_TARGET static inline __attribute__((always_inline)) void qv_pass(const int fmt, const int gfni, const int T, QV_ARGS) {
    const size_t vec_bytes = fmt == 0 ? Q8_VEC_BYTES : Q4_VEC_BYTES;
    const size_t pair_bytes = 2 * vec_bytes + 64;
    const size_t rec = (size_t)T * QREC;
    uint32_t bits = 0;
    for (int l = 0; l < QROWS; l++) bits |= (uint32_t)(row0 + l >= lo && row0 + l < hi) << l;
    __m512 acc[QTILE];
    for (int t = 0; t < T; t++)
        acc[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps((__mmask16)bits, y + (size_t)t * ldy + row0);
    size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const uint8_t *pair = w + (b >> 1) * pair_bytes;
        __m512i scales = _mm512_load_si512((const void *)pair);
        /* Keep the scale line's load ahead of the vector loads in program order (the compiler would
         * otherwise fold it into the vcvtph2ps after them). */
        __asm__ volatile("" : "+v"(scales) : : "memory");
        qv_block(fmt, gfni, T, pair + 64, _mm512_cvtph_ps(_mm512_castsi512_si256(scales)), tile + b * rec, acc);
        qv_block(fmt, gfni, T, pair + 64 + vec_bytes, _mm512_cvtph_ps(_mm512_extracti64x4_epi64(scales, 1)),
                 tile + (b + 1) * rec, acc);
    }
    if (b < nb) { /* odd last block: alone in its pair */
        const uint8_t *pair = w + (b >> 1) * pair_bytes;
        qv_block(fmt, gfni, T, pair + 64, _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)pair)), tile + b * rec, acc);
    }
    for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + (size_t)t * ldy + row0, (__mmask16)bits, acc[t]);
}

typedef void (*qv_pass_fn)(QV_ARGS);

#define QV_DEF(F, G, T) QV_TARGET __attribute__((noinline)) static void qv_pass_##F##G##_##T(QV_ARGS) { qv_pass(F, G, T, QV_PASS); }
#define QV_DEF_FMT(F, G) QV_DEF(F, G, 1) QV_DEF(F, G, 2) QV_DEF(F, G, 3) QV_DEF(F, G, 4) QV_DEF(F, G, 5) QV_DEF(F, G, 6) QV_DEF(F, G, 7) QV_DEF(F, G, 8)
QV_DEF_FMT(0, 0)
QV_DEF_FMT(1, 0)
QV_DEF(1, 1, 1) QV_DEF(1, 1, 2)

/* GFNI (cpuid 7.0 ECX bit 8; Ice Lake, Zen 4 and later, but not Cascade Lake) turns the q4_0 high-nibble
 * extraction into one vgf2p8affineqb (the bit matrix 0x1020408000000000 maps each byte x to x >> 4)
 * instead of vpsrlw + vpand: 27 instead of 31 instructions per block at n = 1. On Zen 4 that measured
 * 2-6% faster from DRAM at n = 1 (more weight lines in flight within the reorder window) and 7% faster
 * with operands in L1, but 8% slower for 8-token tiles (vgf2p8affineqb competes with vpdpbusd for the
 * same two pipes, vpsrlw / vpand do not), so only tiles of 1-2 tokens use it.
 * ckernels_cpu_features() has no GFNI bit, so it is probed here, once (the probe is idempotent). The
 * instruction is written as inline asm in the GFNI variant only, and no function carries the gfni
 * target attribute, so the compiler cannot put GFNI code into the variants meant for CPUs without it
 * (LLVM may lower byte shifts to vgf2p8affineqb where the target allows). */
static int qv_gfni(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (__get_cpuid_max(0, NULL) >= 7) __cpuid_count(7, 0, a, b, c, d);
        v = (int)((c >> 8) & 1u);
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

/* Kernel variants: q8_0; q4_0 with vpsrlw + vpand; q4_0 with GFNI for tiles of 1-2 tokens. */
enum { QV_Q8 = 0, QV_Q4_SHIFT = 1, QV_Q4_GFNI = 2 };

/* The pass of `variant` for a tile of c tokens (1 <= c <= 8). */
static qv_pass_fn qv_lookup(int variant, size_t c) {
#define QV_ROW(F)                                                                                              \
    { qv_pass_##F##_1, qv_pass_##F##_2, qv_pass_##F##_3, qv_pass_##F##_4,                                      \
      qv_pass_##F##_5, qv_pass_##F##_6, qv_pass_##F##_7, qv_pass_##F##_8 }
    static const qv_pass_fn table[2][QTILE] = {QV_ROW(00), QV_ROW(10)};
#undef QV_ROW
    if (variant == QV_Q4_GFNI) return c == 1 ? qv_pass_11_1 : c == 2 ? qv_pass_11_2 : table[1][c - 1];
    return table[variant][c - 1];
}

/* Activation bytes per GEMM span: tiles of activation records kept in L2 while the slice's row groups
 * stream past them. */
#define QV_SPAN_BYTES (320u << 10)

QV_TARGET static void qv_gemm(int variant, size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                              float *y, size_t ldy, size_t m0, size_t m1) {
    if (m0 >= m1 || n == 0 || m1 > m) return;
    const size_t nb = k / QK;
    if (nb == 0) {
        for (size_t t = 0; t < n; t++) memset(y + t * ldy + m0, 0, (m1 - m0) * sizeof(float));
        return;
    }
    const size_t pair_bytes = variant == QV_Q8 ? Q8_PAIR_BYTES : Q4_PAIR_BYTES;
    const uint8_t *w = (const uint8_t *)w_repacked, *a = (const uint8_t *)act;
    const size_t G = groups_of(m), g0 = m0 / QROWS, g1 = (m1 + QROWS - 1) / QROWS, chunks = chunks_of(nb);
    const size_t tiles = (n + QTILE - 1) / QTILE, tile_bytes = QTILE * QREC * nb;
    if (tiles == 1) {
        /* GEMV: chunk by chunk, the slice's segments in order: one ascending weight stream (the slice's
         * segments of a chunk are adjacent), while the chunk's activation records (c * 40 bytes x 32
         * blocks) stay in L1 */
        const qv_pass_fn pass = qv_lookup(variant, n);
        for (size_t ci = 0; ci < chunks; ci++)
            for (size_t g = g0; g < g1; g++) {
                size_t cb;
                const uint8_t *seg = chunk_segment(w, G, nb, pair_bytes, g, ci, &cb);
                pass(seg, cb, a + ci * QCHUNK * n * QREC, y, ldy, g * QROWS, m0, m1, ci == 0);
            }
        return;
    }
    const size_t span = QV_SPAN_BYTES / tile_bytes > 0 ? QV_SPAN_BYTES / tile_bytes : 1;
    for (size_t j0 = 0; j0 < tiles; j0 += span) {
        const size_t j1 = qmin(tiles, j0 + span);
        for (size_t g = g0; g < g1; g++)
            for (size_t j = j0; j < j1; j++) {
                const size_t c = qmin(QTILE, n - j * QTILE);
                const qv_pass_fn pass = qv_lookup(variant, c);
                for (size_t ci = 0; ci < chunks; ci++) {
                    size_t cb;
                    const uint8_t *seg = chunk_segment(w, G, nb, pair_bytes, g, ci, &cb);
                    pass(seg, cb, a + j * tile_bytes + ci * QCHUNK * c * QREC, y + j * QTILE * ldy, ldy, g * QROWS, m0,
                         m1, ci == 0);
                }
            }
    }
}

int ckernels_q4_0_avx512vnni_uses_gfni(void) { return qv_gfni(); }

void ckernels_q8_0_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                                   float *y, size_t ldy, size_t m0, size_t m1) {
    qv_gemm(QV_Q8, m, n, k, w_repacked, act, y, ldy, m0, m1);
}
void ckernels_q4_0_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                                   float *y, size_t ldy, size_t m0, size_t m1) {
    qv_gemm(qv_gfni() ? QV_Q4_GFNI : QV_Q4_SHIFT, m, n, k, w_repacked, act, y, ldy, m0, m1);
}
void ckernels_q4_0_gemm_avx512vnni_nogfni(size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                                          float *y, size_t ldy, size_t m0, size_t m1) {
    qv_gemm(QV_Q4_SHIFT, m, n, k, w_repacked, act, y, ldy, m0, m1);
}

/* ========================================= AVX2 path ========================================= */

#define QA_TARGET __attribute__((target("avx2,fma,f16c")))

/* One row group segment (two halves of 8 rows: the low and high 32 bytes of each 64-byte vector) x the c
 * tokens of a tile, over the segment's nb blocks (one k chunk; `tile` points at the chunk's first record),
 * adding to acc. With 16 ymm registers the fp32 accumulators live in a small L1 array and
 * the weights of one half-block stay in registers while every token of the tile uses them.
 *   q4_0: vpmaddubsw (nibble u8 x qx s8: pairs <= 2*15*127) summed in int16 over the whole block
 *         (<= 16*15*127 = 30480 < 32767), one vpmaddwd against ones, plus corr.
 *   q8_0: the stored value is w + 128, too large for vpmaddubsw without saturation, so the signed w is
 *         recovered (XOR 0x80) and ggml's sign trick applies: |w| (u8) x sign(w)*qx (s8), pairs
 *         <= 2*127*127 = 32258, each group widened by vpmaddwd. No corr (the signed w is used). */
QA_TARGET static void qa_group(int fmt, const uint8_t *w, size_t nb, const uint8_t *tile, size_t c,
                               float *acc /* [c][16] */) {
    const size_t vec_bytes = fmt == 0 ? Q8_VEC_BYTES : Q4_VEC_BYTES;
    const size_t pair_bytes = 2 * vec_bytes + 64;
    const size_t rec = c * QREC;
    const __m256i ones = _mm256_set1_epi16(1), nib = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8((char)0x80);
    for (size_t b = 0; b < nb; b++) {
        const uint8_t *wv = w + (b >> 1) * pair_bytes + 64 + (b & 1) * vec_bytes;
        const uint8_t *ws = w + (b >> 1) * pair_bytes + (b & 1) * 32;
        const uint8_t *xq = tile + b * rec;
        const int32_t *corr = (const int32_t *)(xq + c * (QK + 4));
        const float *dx = (const float *)(xq + c * QK);
        for (int h = 0; h < 2; h++) {
            const __m256 dw = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(ws + 16 * h)));
            if (fmt == 1) {
                __m256i lo4[4], hi4[4];
                for (int g = 0; g < 4; g++) {
                    const __m256i v = _mm256_load_si256((const __m256i *)(wv + 64 * g + 32 * h));
                    lo4[g] = _mm256_and_si256(v, nib);
                    hi4[g] = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
                }
                for (size_t t = 0; t < c; t++) {
                    const uint8_t *xt = xq + t * QK;
                    __m256i p = _mm256_setzero_si256();
                    for (int g = 0; g < 4; g++) {
                        int32_t x0, x1;
                        memcpy(&x0, xt + 4 * g, 4);
                        memcpy(&x1, xt + 16 + 4 * g, 4);
                        p = _mm256_add_epi16(p, _mm256_maddubs_epi16(lo4[g], _mm256_set1_epi32(x0)));
                        p = _mm256_add_epi16(p, _mm256_maddubs_epi16(hi4[g], _mm256_set1_epi32(x1)));
                    }
                    const __m256i d32 = _mm256_add_epi32(_mm256_madd_epi16(p, ones), _mm256_set1_epi32(corr[t]));
                    const __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(dx[t]));
                    float *a = acc + t * QROWS + 8 * h;
                    _mm256_storeu_ps(a, _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(d32), _mm256_loadu_ps(a)));
                }
            } else {
                __m256i sw[8], aw[8];
                for (int g = 0; g < 8; g++) {
                    sw[g] = _mm256_xor_si256(_mm256_load_si256((const __m256i *)(wv + 64 * g + 32 * h)), flip);
                    aw[g] = _mm256_abs_epi8(sw[g]);
                }
                for (size_t t = 0; t < c; t++) {
                    const uint8_t *xt = xq + t * QK;
                    __m256i d32 = _mm256_setzero_si256();
                    for (int g = 0; g < 8; g++) {
                        int32_t xg;
                        memcpy(&xg, xt + 4 * g, 4);
                        const __m256i sx = _mm256_sign_epi8(_mm256_set1_epi32(xg), sw[g]);
                        d32 = _mm256_add_epi32(d32, _mm256_madd_epi16(_mm256_maddubs_epi16(aw[g], sx), ones));
                    }
                    const __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(dx[t]));
                    float *a = acc + t * QROWS + 8 * h;
                    _mm256_storeu_ps(a, _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(d32), _mm256_loadu_ps(a)));
                }
            }
        }
    }
}

QA_TARGET static void qa_gemm(int fmt, size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                              float *y, size_t ldy, size_t m0, size_t m1) {
    if (m0 >= m1 || n == 0 || m1 > m) return;
    const size_t nb = k / QK;
    const size_t pair_bytes = fmt == 0 ? Q8_PAIR_BYTES : Q4_PAIR_BYTES;
    const uint8_t *w = (const uint8_t *)w_repacked, *a = (const uint8_t *)act;
    const size_t G = groups_of(m), g0 = m0 / QROWS, g1 = (m1 + QROWS - 1) / QROWS, chunks = chunks_of(nb);
    const size_t tiles = (n + QTILE - 1) / QTILE, tile_bytes = QTILE * QREC * nb;
    const size_t span = nb == 0 ? tiles : QV_SPAN_BYTES / tile_bytes > 0 ? QV_SPAN_BYTES / tile_bytes : 1;
    float acc[QTILE * QROWS] __attribute__((aligned(32)));
    if (tiles == 1 && nb > 0) {
        /* GEMV: chunk-major like the AVX512-VNNI path (one ascending weight stream, the chunk's activation
         * in L1); the partial sums of [m0, m1) wait in Y between chunks */
        for (size_t ci = 0; ci < chunks; ci++) {
            for (size_t g = g0; g < g1; g++) {
                const size_t r0 = g * QROWS > m0 ? g * QROWS : m0, r1 = qmin(m1, (g + 1) * QROWS);
                for (size_t i = 0; i < n * QROWS; i++) acc[i] = 0.0f;
                if (ci > 0)
                    for (size_t t = 0; t < n; t++)
                        for (size_t i = r0; i < r1; i++) acc[t * QROWS + (i - g * QROWS)] = y[t * ldy + i];
                size_t cb;
                const uint8_t *seg = chunk_segment(w, G, nb, pair_bytes, g, ci, &cb);
                qa_group(fmt, seg, cb, a + ci * QCHUNK * n * QREC, n, acc);
                for (size_t t = 0; t < n; t++)
                    for (size_t i = r0; i < r1; i++) y[t * ldy + i] = acc[t * QROWS + (i - g * QROWS)];
            }
        }
        return;
    }
    for (size_t j0 = 0; j0 < tiles; j0 += span) {
        const size_t j1 = qmin(tiles, j0 + span);
        for (size_t g = g0; g < g1; g++)
            for (size_t j = j0; j < j1; j++) {
                const size_t c = qmin(QTILE, n - j * QTILE);
                for (size_t i = 0; i < c * QROWS; i++) acc[i] = 0.0f;
                for (size_t ci = 0; ci < chunks; ci++) {
                    size_t cb;
                    const uint8_t *seg = chunk_segment(w, G, nb, pair_bytes, g, ci, &cb);
                    qa_group(fmt, seg, cb, a + j * tile_bytes + ci * QCHUNK * c * QREC, c, acc);
                }
                const size_t r0 = g * QROWS > m0 ? g * QROWS : m0, r1 = qmin(m1, (g + 1) * QROWS);
                for (size_t t = 0; t < c; t++)
                    for (size_t i = r0; i < r1; i++) y[(j * QTILE + t) * ldy + i] = acc[t * QROWS + (i - g * QROWS)];
            }
    }
}

void ckernels_q8_0_gemm_avx2(size_t m, size_t n, size_t k, const void *w_repacked, const void *act, float *y,
                             size_t ldy, size_t m0, size_t m1) {
    qa_gemm(0, m, n, k, w_repacked, act, y, ldy, m0, m1);
}
void ckernels_q4_0_gemm_avx2(size_t m, size_t n, size_t k, const void *w_repacked, const void *act, float *y,
                             size_t ldy, size_t m0, size_t m1) {
    qa_gemm(1, m, n, k, w_repacked, act, y, ldy, m0, m1);
}

#else /* not x86-64: the AVX entry points exist (the header declares them) but must never be called */

int ckernels_q4_0_avx512vnni_uses_gfni(void) { return 0; }
void ckernels_q4_0_gemm_avx512vnni_nogfni(size_t m, size_t n, size_t k, const void *w, const void *act, float *y,
                                          size_t ldy, size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}

void ckernels_q8_0_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w, const void *act, float *y,
                                   size_t ldy, size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}
void ckernels_q4_0_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w, const void *act, float *y,
                                   size_t ldy, size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}
void ckernels_q8_0_gemm_avx2(size_t m, size_t n, size_t k, const void *w, const void *act, float *y, size_t ldy,
                             size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}
void ckernels_q4_0_gemm_avx2(size_t m, size_t n, size_t k, const void *w, const void *act, float *y, size_t ldy,
                             size_t m0, size_t m1) {
    (void)m, (void)n, (void)k, (void)w, (void)act, (void)y, (void)ldy, (void)m0, (void)m1;
}
#endif
