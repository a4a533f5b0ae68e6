/* STREAM kernels (McCalpin's copy / scale / add / triad, plus a read-only sum) on doubles.
 *
 * Plain loops over an index range [0, n): the Swift side splits the arrays among its threads by passing
 * offset pointers, so each call is one thread's share. They are compiled for the baseline ISA: at the
 * array sizes STREAM uses (several times the last-level cache) they are bound by memory bandwidth, and
 * SSE2's 16-byte loads and stores already issue far faster than DRAM delivers.
 *
 * `restrict` tells the compiler the arrays do not overlap (the header requires it), so the loops
 * vectorize without run-time overlap checks. The copy loop is kept a loop: clang would otherwise turn it
 * into a call to memcpy, whose large-size path switches to non-temporal stores and so would measure
 * something different from the other four kernels (which use ordinary, write-allocating stores, as
 * STREAM does).
 */
#include "ckernels.h"

#if defined(__has_attribute)
#if __has_attribute(no_builtin)
#define CKERNELS_NO_MEMCPY_IDIOM __attribute__((no_builtin("memcpy")))
#endif
#endif
#ifndef CKERNELS_NO_MEMCPY_IDIOM
#define CKERNELS_NO_MEMCPY_IDIOM
#endif

CKERNELS_NO_MEMCPY_IDIOM
void ckernels_stream_copy(double *restrict c, const double *restrict a, size_t n) {
    for (size_t j = 0; j < n; j++) c[j] = a[j];
}

void ckernels_stream_scale(double *restrict b, const double *restrict c, double q, size_t n) {
    for (size_t j = 0; j < n; j++) b[j] = q * c[j];
}

void ckernels_stream_add(double *restrict c, const double *restrict a, const double *restrict b, size_t n) {
    for (size_t j = 0; j < n; j++) c[j] = a[j] + b[j];
}

void ckernels_stream_triad(double *restrict a, const double *restrict b, const double *restrict c, double q,
                           size_t n) {
    for (size_t j = 0; j < n; j++) a[j] = b[j] + q * c[j];
}

/* Read-only sum. A scalar `s += a[j]` loop is one dependent chain (4 cycles per add on current cores:
 * ~7 GB/s at 3.7 GHz, below one core's DRAM bandwidth) and the compiler may not reorder it (strict FP).
 * Four independent 4-wide accumulators (16 doubles = two 64-byte lines per iteration) keep 16 adds in
 * flight, enough to cover add latency x 2 add pipes with 128-bit SSE2 and to stay memory-bound even when
 * the data sits in L2. The vector type is declared with 8-byte alignment, so any double* is valid (the
 * loads are unaligned loads); the remaining n % 16 elements are summed by a scalar tail. */
typedef double ckernels_v4d_u __attribute__((vector_size(32), aligned(8)));

double ckernels_stream_read(const double *a, size_t n) {
    ckernels_v4d_u s0 = {0, 0, 0, 0}, s1 = s0, s2 = s0, s3 = s0;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        const ckernels_v4d_u *p = (const ckernels_v4d_u *)(a + j);
        s0 += p[0];
        s1 += p[1];
        s2 += p[2];
        s3 += p[3];
    }
    double tail = 0.0;
    for (; j < n; j++) tail += a[j];
    ckernels_v4d_u s = (s0 + s1) + (s2 + s3);
    return ((s[0] + s[1]) + (s[2] + s[3])) + tail;
}
