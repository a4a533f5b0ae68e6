/* CKernels: W8A8 int8 GEMM / GEMV with per-output-channel weight scales and per-token activation scales
 * (w8a8.c).
 *
 * Weights W (M output rows x K inputs, fp32) are quantized once, per output channel (row) i; activations
 * X (N tokens x K, fp32) are quantized inside the timed call, per token t. Both use the same symmetric
 * per-channel INT8 rule ("absmax", as in LLM.int8 / SmoothQuant / ONNX dynamic per-token quantization):
 *
 *     s = max_k |x[k]| / 127                               (fp32 division; s = 0 for an all-zero row)
 *     q[k] = clamp(round_half_away_from_zero(x[k] / s), -127, 127)   (fp32 division; all 0 when s == 0)
 *
 * and the product Y (N x M, fp32, row stride ldy) is
 *
 *     Y[t][i] = (s_x[t] * s_w[i]) * (float)dot[t][i]       (two fp32 multiplies, in that order)
 *     dot[t][i] = sum_k qx[t][k] * qw[i][k]                 (exact int32)
 *
 * |dot| <= 127 * 127 * K, and the AVX512 path's intermediate sum over (qw + 128) is <= 255 * 127 * K:
 * both fit in int32 for K <= 65536 (required). (float)dot rounds to nearest even (exact below 2^24).
 * Every path computes exactly these operations, so all paths return the same bits as
 * ckernels_w8a8_gemm_ref.
 *
 * K must be a multiple of 4 (one vpdpbusd lane); M and N are arbitrary. Every function here is
 * single-threaded and reentrant: to use several threads give each a disjoint range of output rows
 * [m0, m1) (GEMM) or of tokens [n0, n1) (activation quantizer).
 */
#ifndef ACCELBENCH_CKERNELS_W8A8_H
#define ACCELBENCH_CKERNELS_W8A8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Plain quantization (row-major int8 rows + one fp32 scale per row), the rule above ----
 * rows x k floats (row stride ldx >= k, finite) -> q (rows x k, row stride k) and scale[rows]. */
void ckernels_w8a8_quantize_rows(size_t rows, size_t k, const float *x, size_t ldx, int8_t *q, float *scale);

/* ---- Exact reference: plain loops over plain quantized operands, slow ----
 * qw: m x k (stride k), sw[m]; qx: n x k (stride k), sx[n]. Y[t][i] = y[t * ldy + i]. */
void ckernels_w8a8_gemm_ref(size_t m, size_t n, size_t k, const int8_t *qw, const float *sw, const int8_t *qx,
                            const float *sx, float *y, size_t ldy);

/* ---- Kernel paths (the CKERNELS_QPATH_* values of ckernels_quant.h: PORTABLE 0, AVX2 1, AVX512VNNI 2) ----
 * AVX512VNNI needs AVX512 F/BW/VL/DQ/VNNI; AVX2 needs AVX2; PORTABLE runs anywhere. 1 when this CPU
 * (and OS) can run `path`. */
int ckernels_w8a8_path_supported(int path);

/* ---- Packed weights (the AVX2 and AVX512VNNI paths) ----
 * Rows in groups of CKERNELS_W8A8_ROWS = 16 (the last group padded with zero rows, scale 0); G groups.
 * k is split into chunks of CKERNELS_W8A8_CHUNK = 1024 (the last may be shorter, kc bytes). Chunk c
 * (k [1024c, 1024c + kc)) starts at byte c * G * 16 * 1024 and holds one segment of 16 * kc bytes per
 * group, group after group: kc / 4 vectors of 64 bytes, vector s of group g's segment has in 32-bit
 * lane r the bytes qw[16g + r][1024c + 4s .. 1024c + 4s + 3] XOR 0x80 (i.e. qw + 128, unsigned: the
 * operand vpdpbusd multiplies as u8). So a GEMV walking the chunks reads its weights as one ascending
 * stream while the chunk's activation stays in L1. After the G * 16 * k weight bytes: float
 * scale[16 G] (s_w, 0 for padding rows). dst must be 64-byte aligned; every vector is then 64-byte
 * aligned. */
#define CKERNELS_W8A8_ROWS 16
#define CKERNELS_W8A8_CHUNK 1024
size_t ckernels_w8a8_packed_bytes(size_t m, size_t k);
void ckernels_w8a8_pack(size_t m, size_t k, const int8_t *qw, const float *sw, void *dst);

/* ---- Quantized activations ("w8a8 act" layout, all paths) ----
 * Tokens in tiles of CKERNELS_W8A8_TILE = 12 (the last tile holds the remaining c <= 12). Tile j (tokens
 * 12j .. 12j + c - 1) starts at byte 12 * j * k and holds k / 4 steps of c * 4 bytes: step s, token p of
 * the tile = qx[12j + p][4s .. 4s + 3] (int8). After the n * k data bytes, rounded up to 64:
 * float scale[n] (s_x), then int32 corr[n] = -128 * sum_k qx[t][k] (turns the vpdpbusd sum over
 * qw + 128 into the signed dot). act must be 64-byte aligned. */
#define CKERNELS_W8A8_TILE 12
size_t ckernels_w8a8_act_bytes(size_t n, size_t k);
/* Quantizes tokens [n0, n1) of X (n x k, row stride ldx, finite) into act. Every path writes the same
 * bytes (the AVX2 path runs the portable quantizer). */
void ckernels_w8a8_act_quantize(int path, size_t n0, size_t n1, size_t n, size_t k, const float *x, size_t ldx,
                                void *act);
/* Copies token t out of act: its k int8 values and its scale (for tests). */
void ckernels_w8a8_act_unpack(size_t n, size_t k, const void *act, size_t t, int8_t *q, float *scale);

/* ---- GEMM / GEMV ----
 * Y[t][i] (y[t * ldy + i]) for t < n and rows i in [m0, m1) (0 <= m0 <= m1 <= m), overwritten; other
 * rows of Y are not touched. act: the n tokens (ckernels_w8a8_act_quantize). The AVX paths read the
 * packed weights; the portable path reads the plain rows (qw: m x k, sw[m]). Splitting rows between
 * threads on 32-row boundaries keeps every pass at two row groups. Results: bit-identical to
 * ckernels_w8a8_gemm_ref on every path. */
void ckernels_w8a8_gemm_avx512vnni(size_t m, size_t n, size_t k, const void *w_packed, const void *act, float *y,
                                   size_t ldy, size_t m0, size_t m1);
void ckernels_w8a8_gemm_avx2(size_t m, size_t n, size_t k, const void *w_packed, const void *act, float *y,
                             size_t ldy, size_t m0, size_t m1);
void ckernels_w8a8_gemm_portable(size_t m, size_t n, size_t k, const int8_t *qw, const float *sw, const void *act,
                                 float *y, size_t ldy, size_t m0, size_t m1);

#ifdef __cplusplus
}
#endif
#endif
