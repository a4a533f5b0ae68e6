/* CKernels: GGUF-compatible quantized matrix products (quant.c).
 *
 * Weights W (M output rows x K inputs) are q8_0 or q4_0 blocks in the ggml / GGUF layout: each row is
 * K/32 consecutive blocks, byte for byte what llama.cpp writes. Activations X (N tokens x K, fp32) are
 * quantized to q8_0 inside the timed call, then Y (N x M, fp32, row-major with leading dimension ldy)
 * is computed as
 *
 *     Y[t][i] = sum over blocks b (in order b = 0, 1, ...) of  (d_w[i][b] * d_x[t][b]) * dot[i][t][b]
 *     dot[i][t][b] = sum_{j<32} qw[i][32b+j] * qx[t][32b+j]        (an exact int32)
 *
 * with qw the signed weight values (q8_0: the int8; q4_0: nibble - 8). Every path evaluates the sum in the
 * same floating-point order, so all paths give the same bits (see "Numerics" below).
 *
 * K must be a multiple of 32 (CKERNELS_QK); M and N are arbitrary. Every function here is single-threaded
 * and reentrant: to use several threads give each a disjoint range of output rows [m0, m1) (for the GEMM)
 * or of tokens [n0, n1) (for the activation quantizer).
 */
#ifndef ACCELBENCH_CKERNELS_QUANT_H
#define ACCELBENCH_CKERNELS_QUANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Block formats (ggml's block_q8_0 / block_q4_0, same size, alignment 2, no padding) ---- */
#define CKERNELS_QK 32              /* elements per block, both formats */
#define CKERNELS_Q8_0_BLOCK_BYTES 34
#define CKERNELS_Q4_0_BLOCK_BYTES 18

/* d: IEEE binary16 scale (bit pattern). qs[j] = round(x[j] / d), x[j] ~= qs[j] * d. */
typedef struct {
    uint16_t d;
    int8_t qs[CKERNELS_QK];
} ckernels_block_q8_0;

/* d: binary16 scale. qs[j] low nibble = element j, high nibble = element j + 16; x ~= (nibble - 8) * d. */
typedef struct {
    uint16_t d;
    uint8_t qs[CKERNELS_QK / 2];
} ckernels_block_q4_0;

/* Weight formats, for the functions that serve both. */
enum { CKERNELS_QFORMAT_Q8_0 = 0, CKERNELS_QFORMAT_Q4_0 = 1 };

/* ---- binary16 conversions (scalar; exact / round-to-nearest-even, the same bits as F16C) ---- */
/* fp32 -> fp16, round to nearest even; overflow -> +-inf; subnormals kept; NaN -> quiet NaN (ggml's
 * ggml_compute_fp32_to_fp16, which matches vcvtps2ph for every non-NaN input). */
uint16_t ckernels_fp32_to_fp16(float x);
/* fp16 -> fp32 (exact). */
float ckernels_fp16_to_fp32(uint16_t h);

/* ---- Row quantization, bit-exact with ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref ----
 * k: elements (multiple of 32); y receives k/32 blocks. Inputs must be finite; the scale is stored as
 * fp16, so it becomes +-inf (and the block unusable, as in ggml) once max|x| exceeds 65504*127 (q8_0)
 * or 65504*8 (q4_0). */
void ckernels_quantize_row_q8_0(const float *x, ckernels_block_q8_0 *y, size_t k);
void ckernels_quantize_row_q4_0(const float *x, ckernels_block_q4_0 *y, size_t k);
/* y[j] = qs[j] * fp32(d) (q8_0), (nibble - 8) * fp32(d) (q4_0): one rounding, as ggml's dequantize_row. */
void ckernels_dequantize_row_q8_0(const ckernels_block_q8_0 *x, float *y, size_t k);
void ckernels_dequantize_row_q4_0(const ckernels_block_q4_0 *x, float *y, size_t k);

/* ---- Exact reference ----
 * The int32 dot of one weight block with one activation block (|result| <= 32*127*127 for q8_0,
 * 32*8*127 for q4_0). */
int32_t ckernels_q8_0_block_dot(const ckernels_block_q8_0 *w, const ckernels_block_q8_0 *x);
int32_t ckernels_q4_0_block_dot(const ckernels_block_q4_0 *w, const ckernels_block_q8_0 *x);

/* Y[t][i] for t < n, i < m from GGUF weights (m rows of k/32 blocks) and GGUF q8_0 activations (n rows
 * of k/32 blocks, e.g. from ckernels_quantize_row_q8_0), by the formula above: plain loops, slow. The
 * fast paths must reproduce its output bit for bit. */
void ckernels_q8_0_gemm_ref(size_t m, size_t n, size_t k, const ckernels_block_q8_0 *w,
                            const ckernels_block_q8_0 *xq, float *y, size_t ldy);
void ckernels_q4_0_gemm_ref(size_t m, size_t n, size_t k, const ckernels_block_q4_0 *w,
                            const ckernels_block_q8_0 *xq, float *y, size_t ldy);

/* ---- Kernel paths ----
 * AVX512VNNI needs AVX512 F/BW/VL/VNNI and F16C; AVX2 needs AVX2, FMA and F16C; PORTABLE runs anywhere. */
enum { CKERNELS_QPATH_PORTABLE = 0, CKERNELS_QPATH_AVX2 = 1, CKERNELS_QPATH_AVX512VNNI = 2 };
/* 1 when this CPU (and OS) can run `path`. */
int ckernels_qpath_supported(int path);

/* ---- Repacked weights (the AVX2 and AVX512VNNI paths) ----
 * Rows are taken in groups of CKERNELS_QREPACK_ROWS = 16 (the last group padded with zero rows, scale
 * 0). Within a group, for each block b, the 32 x 16 weights form 64-byte vectors whose 32-bit lane r
 * holds four consecutive k of row r (the shape vpdpbusd consumes against a broadcast 4-byte group of one
 * token's activations):
 *   q8_0: 8 vectors; vector g, lane r = row r's qs[4g .. 4g+3] XOR 0x80 (i.e. qs + 128, unsigned)
 *   q4_0: 4 vectors; vector g, lane r = row r's qs[4g .. 4g+3] unchanged: low nibbles are elements
 *         4g..4g+3, high nibbles elements 16+4g..16+4g+3
 * Blocks go in pairs so that every vector stays 64-byte aligned: [16 fp16 scales of b][16 fp16 scales
 * of b+1][vectors of b][vectors of b+1] (an odd last block: its scales, 32 zero bytes, its vectors, and
 * zero vectors). A group is ceil(K/64) pairs; with K/32 even the matrix is the GGUF size of the (padded)
 * rows. The pairs are stored in k chunks of CKERNELS_QREPACK_CHUNK_BLOCKS = 32 blocks (1024 k): chunk 0
 * of every group (group after group), then chunk 1 of every group, and so on; the last chunk may be
 * shorter. A decode GEMV walks the chunks in that order, so its weights are one ascending stream while
 * the 32 activation records of the chunk stay in L1 (with whole rows per group, every record was evicted
 * by the next group's 36-130 KiB of weights and refetched: a second stream of L1 misses that cost the
 * DRAM-bound GEMV up to 20% of its bandwidth on a busy host). dst must be 64-byte aligned. */
#define CKERNELS_QREPACK_ROWS 16
#define CKERNELS_QREPACK_CHUNK_BLOCKS 32
size_t ckernels_q8_0_repacked_bytes(size_t m, size_t k);
size_t ckernels_q4_0_repacked_bytes(size_t m, size_t k);
void ckernels_q8_0_repack(size_t m, size_t k, const ckernels_block_q8_0 *w, void *dst);
void ckernels_q4_0_repack(size_t m, size_t k, const ckernels_block_q4_0 *w, void *dst);

/* ---- Quantized activations ("qact" layout, all paths) ----
 * Tokens are grouped in tiles of CKERNELS_QACT_TILE = 8 (the last tile holds the remaining c <= 8).
 * A tile of c tokens is k/32 consecutive records, one per block b, of c*40 bytes:
 *   int8 qs[c][32]   the q8_0 values of token t, block b (ggml's quantize_row_q8_0_ref rule)
 *   float d[c]       the q8_0 scale, fp16-rounded (the fp32 value of the block's fp16 d)
 *   int32 corr[c]    -128 * sum(qs) for q8_0 weights, -8 * sum(qs) for q4_0 weights: the term that
 *                    turns a vpdpbusd sum over unsigned weights (q8_0 + 128, or q4_0 nibbles) into
 *                    the signed dot
 * Tile j starts at byte j * 8 * 40 * (k/32). The layout depends on the weight format only through corr.
 * act needs 4-byte alignment (64 is better: records then start on cache lines for c = 8). */
#define CKERNELS_QACT_TILE 8
size_t ckernels_qact_bytes(size_t n, size_t k);
/* Quantizes tokens [n0, n1) of X (n x k, row stride ldx floats) into act. Every path writes the same
 * bytes. format: CKERNELS_QFORMAT_*. The AVX2 path runs the portable quantizer. */
void ckernels_qact_quantize(int path, int format, size_t n0, size_t n1, size_t n, size_t k, const float *x,
                            size_t ldx, void *act);
/* Copies token t's blocks out of act as GGUF q8_0 blocks (k/32 of them): for tests. */
void ckernels_qact_unpack(size_t n, size_t k, const void *act, size_t t, ckernels_block_q8_0 *dst);

/* ---- Quantized GEMM / GEMV ----
 * Y[t][i] (y[t * ldy + i]) for t < n and rows i in [m0, m1) (0 <= m0 <= m1 <= m), overwritten; other
 * rows of Y are not touched. act: the n tokens quantized with the same `format` (ckernels_qact_quantize).
 * The AVX paths read the repacked weights; the portable path reads the GGUF rows. Any n works: each pass
 * is one 16-row group x one activation tile (up to 8 tokens) over one k chunk; n <= 8 (GEMV) streams the
 * row groups of [m0, m1) once, chunk by chunk, keeping the partial sums of [m0, m1) in Y between chunks;
 * larger n (GEMM) keeps ~320 KiB of activation tiles in L2 while the row groups pass over
 * them. m0 and m1 need not be multiples of 16, but splitting rows between
 * threads on 16-row boundaries avoids computing a shared group twice.
 * Numerics: each dot is an exact int32; the scale product d_w * d_x of two fp16 values is exact in fp32;
 * each output is the fp32 fused multiply-add chain acc = fma(d_w * d_x, (float)dot, acc) over the blocks
 * in order, starting from +0. So every path returns the same bits as ckernels_q*_gemm_ref. */
/* 1 when the AVX512VNNI q4_0 kernel unpacks high nibbles with GFNI (vgf2p8affineqb) in tiles of 1-2
 * tokens (GEMV), 0 when it always uses vpsrlw + vpand (CPUs without GFNI). Same results either way. */
int ckernels_q4_0_avx512vnni_uses_gfni(void);
void ckernels_q8_0_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                                   float *y, size_t ldy, size_t m0, size_t m1);
void ckernels_q4_0_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_repacked, const void *act,
                                   float *y, size_t ldy, size_t m0, size_t m1);
/* The AVX512VNNI q4_0 kernel with the vpsrlw + vpand unpacking forced (what CPUs without GFNI run), so
 * that tests on a GFNI machine cover it too. Same contract and results. */
void ckernels_q4_0_gemm_avx512vnni_nogfni(size_t m, size_t n, size_t k, const void *w_repacked,
                                          const void *act, float *y, size_t ldy, size_t m0, size_t m1);
void ckernels_q8_0_gemm_avx2(size_t m, size_t n, size_t k, const void *w_repacked, const void *act, float *y,
                             size_t ldy, size_t m0, size_t m1);
void ckernels_q4_0_gemm_avx2(size_t m, size_t n, size_t k, const void *w_repacked, const void *act, float *y,
                             size_t ldy, size_t m0, size_t m1);
void ckernels_q8_0_gemm_portable(size_t m, size_t n, size_t k, const ckernels_block_q8_0 *w, const void *act,
                                 float *y, size_t ldy, size_t m0, size_t m1);
void ckernels_q4_0_gemm_portable(size_t m, size_t n, size_t k, const ckernels_block_q4_0 *w, const void *act,
                                 float *y, size_t ldy, size_t m0, size_t m1);

#ifdef __cplusplus
}
#endif
#endif
