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

/* Bit set of CKERNELS_FEAT_* the CPU and OS support. 0 on non-x86 machines. */
uint32_t ckernels_cpu_features(void);
/* CPU vendor string ("GenuineIntel", "AuthenticAMD", ...), NUL-terminated, into out[13]. */
void ckernels_cpu_vendor(char out[13]);
/* Display family and model as cpuid defines them (family includes the extended family). */
int ckernels_cpu_family(void);
int ckernels_cpu_model(void);
/* Brand string ("AMD EPYC ..."), NUL-terminated, into out[49]. */
void ckernels_cpu_brand(char out[49]);

#ifdef __cplusplus
}
#endif
#endif
