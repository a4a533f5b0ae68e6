/* bf16 GEMM with fp32 accumulation: C[m x n] = A[m x k] * B[k x n], all row-major, C overwritten.
 *
 * Two implementations with one contract (see ckernels.h):
 *
 *  - ckernels_sbgemm_avx512bf16: BLIS-style packed GEMM around a vdpbf16ps register tile.
 *    vdpbf16ps (_mm512_dpbf16_ps) works on bf16 *pairs*: fp32 lane i of the accumulator gets
 *    x[2i] * y[2i] + x[2i+1] * y[2i+1]. Both operands are packed with consecutive k values (k, k+1) side
 *    by side in one 32-bit word ("k pair"); kp = ceil(kb / 2) pairs per depth block:
 *      packed B panel  [kp][NR] uint32: word j of pair p = (B[2p][j], B[2p+1][j]); NR/16 zmm loads per p
 *      packed A panel  [MR][SB_APS] uint32: word p of row r = (A[r][2p], A[r][2p+1]); one 32-bit
 *                      broadcast (vpbroadcastd / vbroadcastss) per row and pair
 *    An odd k gets a zero partner, and rows / columns past the matrix edge are zero, so the micro-kernel
 *    always runs full MR x NR tiles; edge tiles go through a temporary tile.
 *    A row's k pairs are already adjacent in a row-major A, so packing A is a row copy (no transpose). The
 *    panel's row stride SB_APS is a compile-time constant, so the kernel's 12 broadcasts address
 *    [a + r * SB_APS * 4] with immediate displacements and one moving pointer; it is KC/2 words rounded
 *    up to whole cache lines plus one line, so the 12 rows of a panel do not all fall into one L1 set
 *    (a stride that is a multiple of 4 KiB would map them to the same set of the 8-way L1).
 *
 *  - ckernels_sbgemm_portable: converts blocks of B to fp32 and runs a row-by-row multiply-add that the
 *    compiler vectorizes for the baseline ISA. Correct everywhere, slow.
 *
 * Loop nest of the AVX512-BF16 path (BLIS order), with the cache each operand is meant to live in:
 *
 *   for jc in n step NC                      B block columns
 *     for pc in k step KC                    depth block
 *       pack B[pc:+KC, jc:+NC]               kp x NC words: L3 (each thread has its own copy)
 *       for ic in m step MC
 *         pack A[ic:+MC, pc:+KC]             MC x kp words: L2, reused by every column panel
 *         for jr in NC step NR
 *           for ir in MC step MR             B micro-panel (kp x NR) reused across ir from L2
 *             micro-kernel: C[ir:+MR, jr:+NR] (+)= A panel x B micro-panel
 *
 * Register tile MR x NR = 12 x 32: 24 zmm accumulators + 2 B vectors + 1 broadcast = 27 of 32 registers.
 * Per k pair: 24 vdpbf16ps (24 cycles on Zen 4, which runs one zmm vdpbf16ps per cycle) against 2 B
 * loads and 12 broadcasts, well inside the load ports; 24 independent accumulators cover the ~6-cycle
 * latency 4 times over (Sapphire Rapids, with 2 ports, still needs only 12). In isolation, with its
 * operands in L1, this kernel runs at 99.5% of the vdpbf16ps peak on Zen 4; 6x64, 8x48 and 14x32 tiles
 * measured the same within 1%.
 *
 * Cache blocking (chosen by measurement on Zen 4: L1d 32 KiB, L2 1 MiB per core, L3 32 MiB shared;
 * 4096x512x4096, 1 and 2 threads, KC 256..4096 x MC 24..384):
 *   KC = 2048 (1024 pairs): the micro-kernel's loop is 24.5k cycles long per call, so the C tile's
 *     read-modify-write and the call overhead vanish, and C goes through the caches only k/2048 times.
 *     The B micro-panel (1024 x 32 x 4 B = 128 KiB) and A panel (48 KiB) stream from L2 at ~7 B/cycle,
 *     far below L2 bandwidth. GFLOPS rose steadily with KC: 256 -> 512 -> 1024 -> 2048 gave about
 *     -12%, 0, +5%, +8% (KC = 4096 was no better than 2048).
 *   MC = 48 (4 panels): packed A block 48 x 2048 x 2 B = 192 KiB, in L2 with the current B micro-panel
 *     and the next A block being prefetched. Larger MC (96..384) measured 1-3% slower on 2 threads.
 *   NC = 1024: packed B block 2048 x 1024 x 2 B = 4 MiB per thread, so two threads' copies share the
 *     32 MiB L3 with room for A and C.
 *
 * Prefetching (both measured, see sb_kernel and sb_prefetcher): the C tile of the *next* micro-kernel call
 * into L2 (+4% in the kernel when C comes from L3), and the next A block into L2 during the last quarter
 * of the current block's calls (A's short row segments a whole lda apart defeat the hardware prefetchers;
 * this halved the time spent packing A).
 *
 * Workspace layout (one call, one thread): [<= 63 bytes to reach 64-byte alignment][packed B: ceil(nb/NR)
 * panels of kp x NR words][packed A: ceil(mb/MR) panels of MR x SB_APS words]. Both regions start on a
 * 64-byte boundary; the B panels' aligned zmm loads rely on that.
 */
#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define SB_MR CKERNELS_SBGEMM_MR
#define SB_NR CKERNELS_SBGEMM_NR
#define SB_KC CKERNELS_SBGEMM_KC
#define SB_MC CKERNELS_SBGEMM_MC
#define SB_NC CKERNELS_SBGEMM_NC
#define SB_NRV (SB_NR / 16) /* zmm vectors per tile row */
/* Row stride of a packed A panel, in 32-bit words (k pairs): KC/2 rounded up to whole 64-byte lines,
 * plus one line so that consecutive rows start in different L1 sets. */
#define SB_APS ((SB_KC / 2 + 15) / 16 * 16 + 16)

_Static_assert(SB_NR % 16 == 0, "NR must be a multiple of 16 fp32 lanes");
_Static_assert(SB_MR * SB_NRV + SB_NRV + 1 <= 32, "tile must fit the 32 zmm registers");
_Static_assert(SB_KC % 32 == 0, "KC must be a multiple of 32 (whole k pairs, whole 64-byte A chunks)");
_Static_assert(SB_MC % SB_MR == 0 && SB_NC % SB_NR == 0, "MC, NC must be multiples of MR, NR");

/* Portable path blocking: a SBP_KC x SBP_NC fp32 block of B (256 KiB) stays in L2 while every row of A
 * streams past it; each row's SBP_NC-wide C segment (2 KiB) stays in L1. */
#define SBP_KC 128
#define SBP_NC 512

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Bytes of the AVX512-BF16 path's packed blocks for this shape (without alignment slack). */
static size_t sb_packed_b_bytes(size_t n, size_t k) {
    size_t kp = (min_sz(SB_KC, k) + 1) / 2;
    return kp * round_up(min_sz(SB_NC, n), SB_NR) * sizeof(uint32_t);
}
static size_t sb_packed_a_bytes(size_t m) {
    return (size_t)SB_APS * round_up(min_sz(SB_MC, m), SB_MR) * sizeof(uint32_t);
}

size_t ckernels_sbgemm_workspace_bytes(size_t m, size_t n, size_t k) {
    if (m == 0 || n == 0 || k == 0) return 0;
    size_t avx = round_up(sb_packed_b_bytes(n, k), 64) + sb_packed_a_bytes(m);
    size_t portable = min_sz(SBP_KC, k) * min_sz(SBP_NC, n) * sizeof(float);
    return (avx > portable ? avx : portable) + 64;
}

static void *align64(void *p) { return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void zero_c(size_t m, size_t n, float *c, size_t ldc) {
    for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
}

/* ======================================== AVX512-BF16 path ======================================== */
#if defined(__x86_64__)

#define SB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

/* Pack B[0:kb, 0:nb] (row-major, ldb) into panels of NR columns: panel q holds, for each k pair p, NR
 * words (B[2p][j], B[2p+1][j]) for j = q*NR ..< q*NR+NR. Columns past nb and the partner of an odd last
 * k are zero. 16 columns at a time: two 16 x bf16 row loads (masked at the right edge), widened to 32
 * bits and combined as lo | hi << 16. */
SB_TARGET __attribute__((noinline)) static void sb_pack_b(size_t kb, size_t nb, const uint16_t *b, size_t ldb,
                                                           uint32_t *bp) {
    const size_t kp = (kb + 1) / 2;
    for (size_t j0 = 0; j0 < nb; j0 += SB_NR) {
        uint32_t *panel = bp + (j0 / SB_NR) * kp * SB_NR;
        for (size_t v = 0; v < SB_NRV; v++) {
            const size_t col = j0 + 16 * v;
            const size_t width = col < nb ? min_sz(16, nb - col) : 0;
            const __mmask16 mask = (__mmask16)((1u << width) - 1u);
            const uint16_t *src = b + (width ? col : 0);
            uint32_t *dst = panel + 16 * v;
            for (size_t p = 0; p < kp; p++) {
                const size_t k0 = 2 * p;
                __m256i r0 = _mm256_maskz_loadu_epi16(mask, src + k0 * ldb);
                __m256i r1 = k0 + 1 < kb ? _mm256_maskz_loadu_epi16(mask, src + (k0 + 1) * ldb)
                                         : _mm256_setzero_si256();
                __m512i pair = _mm512_or_si512(_mm512_cvtepu16_epi32(r0),
                                               _mm512_slli_epi32(_mm512_cvtepu16_epi32(r1), 16));
                _mm512_store_si512((void *)(dst + p * SB_NR), pair);
            }
        }
    }
}

/* Pack A[0:mb, 0:kb] (row-major, lda) into panels of MR rows at row stride SB_APS words: a row's k pairs
 * are adjacent in A already, so each row is copied 32 bf16 (one line) at a time, the masked load
 * zero-filling an odd tail. Rows from mb up to the next multiple of MR are zero (an all-zero mask loads
 * nothing). Words past kp in a row are never read. */
SB_TARGET __attribute__((noinline)) static void sb_pack_a(size_t mb, size_t kb, const uint16_t *a, size_t lda,
                                                           uint32_t *ap) {
    const size_t rows = round_up(mb, SB_MR);
    for (size_t i = 0; i < rows; i++) {
        uint32_t *dst = ap + i * SB_APS;
        const int valid = i < mb;
        const uint16_t *src = a + (valid ? i : 0) * lda;
        for (size_t k0 = 0; k0 < kb; k0 += 32) {
            const size_t elems = min_sz(32, kb - k0);
            const __mmask32 mask = (__mmask32)(!valid ? 0u : elems == 32 ? 0xFFFFFFFFu : (1u << elems) - 1u);
            _mm512_store_si512((void *)(dst + k0 / 2), _mm512_maskz_loadu_epi16(mask, src + k0));
        }
    }
}

/* The register tile: C[0:MR, 0:NR] (+)= sum over kp pairs of A panel (x) B micro-panel.
 * acc[r][v] holds C[r][16v : 16v+16]. accumulate = 0 stores the result (first depth block: C is never
 * read, so garbage or NaN in C does not leak in), 1 adds it to C.
 * c_next is the C tile the next call will update: its lines are prefetched into L2 now, a whole call
 * (tens of thousands of cycles) before they are needed, so this tile's read-modify-write at the end finds
 * C in L2 rather than L3 or DRAM. (Measured with C coming from L3: no prefetch 89% of the kernel's
 * in-cache speed, prefetching the current tile at entry 95%, the next tile 99%.) A prefetch never
 * faults, so c_next may point past the end of C. */
SB_TARGET static void sb_kernel(size_t kp, const uint32_t *restrict a, const uint32_t *restrict b,
                                float *restrict c, size_t ldc, int accumulate, const float *c_next) {
    __m512 acc[SB_MR][SB_NRV];
    for (int r = 0; r < SB_MR; r++) {
        for (int v = 0; v < SB_NRV; v++) acc[r][v] = _mm512_setzero_ps();
        _mm_prefetch((const char *)(c_next + (size_t)r * ldc), _MM_HINT_T1);
        _mm_prefetch((const char *)(c_next + (size_t)r * ldc + SB_NR - 1), _MM_HINT_T1);
    }
    for (size_t p = 0; p < kp; p++) {
        __m512bh bv[SB_NRV];
        for (int v = 0; v < SB_NRV; v++) bv[v] = (__m512bh)_mm512_load_si512((const void *)(b + 16 * v));
        for (int r = 0; r < SB_MR; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r * SB_APS]);
            for (int v = 0; v < SB_NRV; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
        }
        a += 1;
        b += SB_NR;
    }
    for (int r = 0; r < SB_MR; r++) {
        float *cr = c + (size_t)r * ldc;
        for (int v = 0; v < SB_NRV; v++) {
            __m512 x = acc[r][v];
            if (accumulate) x = _mm512_add_ps(x, _mm512_loadu_ps(cr + 16 * v));
            _mm512_storeu_ps(cr + 16 * v, x);
        }
    }
}

/* Software prefetch of the next A block into L2. A is read from memory once per depth block, by
 * sb_pack_a, as MC row segments a whole lda apart: the hardware prefetchers do not follow that, so
 * packing would stall on DRAM. Instead, during the last quarter of the current block's micro-kernel
 * calls, a share of the next block's lines is prefetched before each call. Not earlier: every row block
 * streams the whole packed B block (up to 4 MiB) through L2, which would evict lines prefetched at the
 * start of the block before they are used. */
typedef struct {
    const char *base; /* first element of the block */
    size_t stride;    /* bytes between rows */
    size_t rows, lines_per_row;
    size_t row, line; /* cursor */
    size_t skip;      /* calls to let pass before the first prefetch */
    size_t per_call;  /* lines to prefetch per call after that */
} sb_prefetcher;

static void sb_prefetch_init(sb_prefetcher *pf, const uint16_t *base, size_t lda, size_t rows, size_t kb,
                             size_t calls) {
    const size_t window = calls >= 4 ? calls / 4 : 1;
    pf->base = (const char *)base;
    pf->stride = lda * sizeof(uint16_t);
    pf->rows = rows;
    /* one extra line: a segment that does not start on a line boundary spans one more line */
    pf->lines_per_row = (kb * sizeof(uint16_t) + 63) / 64 + 1;
    pf->row = pf->line = 0;
    pf->skip = calls - window;
    pf->per_call = (rows * pf->lines_per_row + window - 1) / window;
}

SB_TARGET static inline void sb_prefetch_step(sb_prefetcher *pf) {
    if (pf->skip != 0) {
        pf->skip--;
        return;
    }
    for (size_t i = 0; i < pf->per_call && pf->row < pf->rows; i++) {
        _mm_prefetch(pf->base + pf->row * pf->stride + pf->line * 64, _MM_HINT_T1);
        if (++pf->line == pf->lines_per_row) {
            pf->line = 0;
            pf->row++;
        }
    }
}

SB_TARGET static void sb_gemm_avx512(size_t m, size_t n, size_t k, const uint16_t *a, size_t lda,
                                     const uint16_t *b, size_t ldb, float *c, size_t ldc, void *workspace) {
    uint32_t *bp = (uint32_t *)align64(workspace);
    uint32_t *ap = (uint32_t *)((char *)bp + round_up(sb_packed_b_bytes(n, k), 64));
    float tile[SB_MR * SB_NR] __attribute__((aligned(64)));

    for (size_t jc = 0; jc < n; jc += SB_NC) {
        const size_t nb = min_sz(SB_NC, n - jc);
        for (size_t pc = 0; pc < k; pc += SB_KC) {
            const size_t kb = min_sz(SB_KC, k - pc), kp = (kb + 1) / 2;
            const int accumulate = pc != 0;
            sb_pack_b(kb, nb, b + pc * ldb + jc, ldb, bp);
            for (size_t ic = 0; ic < m; ic += SB_MC) {
                const size_t mb = min_sz(SB_MC, m - ic);
                sb_pack_a(mb, kb, a + ic * lda + pc, lda, ap);

                /* The A block packed after this one: the next rows, else the next depth block's first
                 * rows (the next column block re-reads A from the start, likely from L3). */
                sb_prefetcher pf;
                const size_t calls = ((nb + SB_NR - 1) / SB_NR) * ((mb + SB_MR - 1) / SB_MR);
                if (ic + SB_MC < m)
                    sb_prefetch_init(&pf, a + (ic + SB_MC) * lda + pc, lda, min_sz(SB_MC, m - ic - SB_MC), kb, calls);
                else if (pc + SB_KC < k)
                    sb_prefetch_init(&pf, a + pc + SB_KC, lda, min_sz(SB_MC, m), min_sz(SB_KC, k - pc - SB_KC), calls);
                else
                    sb_prefetch_init(&pf, a, lda, 0, 0, calls);

                for (size_t jr = 0; jr < nb; jr += SB_NR) {
                    const size_t nr = min_sz(SB_NR, nb - jr);
                    const uint32_t *bpanel = bp + (jr / SB_NR) * kp * SB_NR;
                    for (size_t ir = 0; ir < mb; ir += SB_MR) {
                        const size_t mr = min_sz(SB_MR, mb - ir);
                        const uint32_t *apanel = ap + ir * SB_APS;
                        float *ct = c + (ic + ir) * ldc + jc + jr;
                        /* the C tile computed after this one: next rows, else the next column panel's
                         * first rows, else the next row block's */
                        const float *cnext = ir + SB_MR < mb    ? ct + SB_MR * ldc
                                             : jr + SB_NR < nb ? c + ic * ldc + jc + jr + SB_NR
                                             : ic + SB_MC < m  ? c + (ic + SB_MC) * ldc + jc
                                                               : ct;
                        sb_prefetch_step(&pf);
                        if (mr == SB_MR && nr == SB_NR) {
                            sb_kernel(kp, apanel, bpanel, ct, ldc, accumulate, cnext);
                        } else {
                            /* Edge tile: compute the full tile into a temporary, then store or add
                             * only its valid mr x nr corner. */
                            sb_kernel(kp, apanel, bpanel, tile, SB_NR, 0, cnext);
                            for (size_t i = 0; i < mr; i++) {
                                float *dst = ct + i * ldc;
                                const float *src = tile + i * SB_NR;
                                if (accumulate)
                                    for (size_t j = 0; j < nr; j++) dst[j] += src[j];
                                else
                                    memcpy(dst, src, nr * sizeof(float));
                            }
                        }
                    }
                }
            }
        }
    }
}

int ckernels_sbgemm_avx512bf16_supported(void) {
    const uint32_t need = CKERNELS_FEAT_AVX512F | CKERNELS_FEAT_AVX512BW | CKERNELS_FEAT_AVX512VL |
                          CKERNELS_FEAT_AVX512DQ | CKERNELS_FEAT_AVX512BF16;
    return (ckernels_cpu_features() & need) == need;
}

void ckernels_sbgemm_avx512bf16(size_t m, size_t n, size_t k, const uint16_t *a, size_t lda, const uint16_t *b,
                                size_t ldb, float *c, size_t ldc, void *workspace) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        zero_c(m, n, c, ldc);
        return;
    }
    void *owned = NULL;
    if (workspace == NULL) {
        owned = malloc(ckernels_sbgemm_workspace_bytes(m, n, k));
        if (owned == NULL) abort();
        workspace = owned;
    }
    sb_gemm_avx512(m, n, k, a, lda, b, ldb, c, ldc, workspace);
    free(owned);
}

#else /* not x86-64: never supported; the portable path does the work if called anyway */

int ckernels_sbgemm_avx512bf16_supported(void) { return 0; }

void ckernels_sbgemm_avx512bf16(size_t m, size_t n, size_t k, const uint16_t *a, size_t lda, const uint16_t *b,
                                size_t ldb, float *c, size_t ldc, void *workspace) {
    ckernels_sbgemm_portable(m, n, k, a, lda, b, ldb, c, ldc, workspace);
}

#endif

/* ========================================= portable path ========================================= */

/* For each SBP_KC x SBP_NC block of B: convert it to fp32 once (SBP_KC x SBP_NC floats in the workspace,
 * L2-sized), then for every row of A run c[i][jc:+nb] += A[i][k] * Bf[k][:] over the block's k: a
 * contiguous axpy the compiler vectorizes, with C's row segment staying in L1 across the block's k. Rows
 * go four at a time so each B vector loaded feeds four multiply-adds (about twice the speed of one row
 * at a time on SSE2, where the loop is bound by loads and stores). C is zeroed first, so it is never read
 * before being written. */
void ckernels_sbgemm_portable(size_t m, size_t n, size_t k, const uint16_t *a, size_t lda, const uint16_t *b,
                              size_t ldb, float *c, size_t ldc, void *workspace) {
    if (m == 0 || n == 0) return;
    zero_c(m, n, c, ldc);
    if (k == 0) return;
    void *owned = NULL;
    if (workspace == NULL) {
        owned = malloc(ckernels_sbgemm_workspace_bytes(m, n, k));
        if (owned == NULL) abort();
        workspace = owned;
    }
    float *bf = (float *)align64(workspace);
    for (size_t jc = 0; jc < n; jc += SBP_NC) {
        const size_t nb = min_sz(SBP_NC, n - jc);
        for (size_t pc = 0; pc < k; pc += SBP_KC) {
            const size_t kb = min_sz(SBP_KC, k - pc);
            for (size_t p = 0; p < kb; p++) ckernels_bf16_to_f32(b + (pc + p) * ldb + jc, bf + p * nb, nb);
            size_t i = 0;
            for (; i + 4 <= m; i += 4) {
                float *restrict c0 = c + i * ldc + jc, *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc,
                                *restrict c3 = c2 + ldc;
                const uint16_t *ai = a + i * lda + pc;
                for (size_t p = 0; p < kb; p++) {
                    const float a0 = bf16_to_f32(ai[p]), a1 = bf16_to_f32(ai[lda + p]),
                                a2 = bf16_to_f32(ai[2 * lda + p]), a3 = bf16_to_f32(ai[3 * lda + p]);
                    const float *restrict bk = bf + p * nb;
                    for (size_t j = 0; j < nb; j++) {
                        const float bj = bk[j];
                        c0[j] += a0 * bj;
                        c1[j] += a1 * bj;
                        c2[j] += a2 * bj;
                        c3[j] += a3 * bj;
                    }
                }
            }
            for (; i < m; i++) {
                float *restrict ci = c + i * ldc + jc;
                const uint16_t *ai = a + i * lda + pc;
                for (size_t p = 0; p < kb; p++) {
                    const float av = bf16_to_f32(ai[p]);
                    const float *restrict bk = bf + p * nb;
                    for (size_t j = 0; j < nb; j++) ci[j] += av * bk[j];
                }
            }
        }
    }
    free(owned);
}

/* ========================================== conversions ========================================== */

/* Round to nearest even on the 16 bits dropped: add 0x7FFF plus the lowest kept bit, then truncate.
 * A carry out of the mantissa correctly bumps the exponent (and rounds the largest finite values up
 * to infinity). NaN is handled first: truncating could turn a NaN whose payload lies only in the low
 * 16 bits into infinity, so NaNs keep their sign and top payload bits and get the quiet bit set. */
static inline uint16_t f32_to_bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void ckernels_f32_to_bf16(const float *restrict src, uint16_t *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = f32_to_bf16_rne(src[i]);
}

void ckernels_bf16_to_f32(const uint16_t *restrict src, float *restrict dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}
