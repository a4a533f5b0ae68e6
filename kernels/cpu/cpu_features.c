#include "ckernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t ckernels_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/* The feature probe itself: cpuid and xgetbv (cpuid traps to the hypervisor in a VM, tens of
 * microseconds), so ckernels_cpu_features() runs it once. */
static uint32_t ckernels_cpu_features_probe(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & (1u << 26)) f |= CKERNELS_FEAT_SSE2;
    int osxsave = (c >> 27) & 1;
    uint64_t xcr0 = osxsave ? ckernels_xgetbv0() : 0;
    int ymm_ok = (xcr0 & 0x6) == 0x6;          /* XMM and YMM state saved */
    int zmm_ok = ymm_ok && (xcr0 & 0xE0) == 0xE0; /* opmask, ZMM_Hi256, Hi16_ZMM saved */
    int has_fma = (c >> 12) & 1, has_avx = (c >> 28) & 1, has_f16c = (c >> 29) & 1;
    if (ymm_ok && has_avx) f |= CKERNELS_FEAT_AVX;
    if (ymm_ok && has_fma) f |= CKERNELS_FEAT_FMA;
    if (ymm_ok && has_f16c) f |= CKERNELS_FEAT_F16C;
    if (c & (1u << 22)) f |= CKERNELS_FEAT_MOVBE;
    if (c & (1u << 23)) f |= CKERNELS_FEAT_POPCNT;
    unsigned max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        unsigned sub_leaves = a;
        if (ymm_ok && (b & (1u << 5))) f |= CKERNELS_FEAT_AVX2;
        if (b & (1u << 3)) f |= CKERNELS_FEAT_BMI1;
        if (b & (1u << 8)) f |= CKERNELS_FEAT_BMI2;
        if (zmm_ok) {
            if (b & (1u << 16)) f |= CKERNELS_FEAT_AVX512F;
            if (b & (1u << 17)) f |= CKERNELS_FEAT_AVX512DQ;
            if (b & (1u << 28)) f |= CKERNELS_FEAT_AVX512CD;
            if (b & (1u << 30)) f |= CKERNELS_FEAT_AVX512BW;
            if (b & (1u << 31)) f |= CKERNELS_FEAT_AVX512VL;
            if (c & (1u << 11)) f |= CKERNELS_FEAT_AVX512VNNI;
            if (d & (1u << 23)) f |= CKERNELS_FEAT_AVX512FP16;
        }
        if (sub_leaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            if (zmm_ok && (a & (1u << 5))) f |= CKERNELS_FEAT_AVX512BF16;
            if (ymm_ok && (a & (1u << 4))) f |= CKERNELS_FEAT_AVXVNNI;
        }
    }
    if (__get_cpuid_max(0x80000000, NULL) >= 0x80000001) {
        __cpuid(0x80000001, a, b, c, d);
        if (c & (1u << 5)) f |= CKERNELS_FEAT_LZCNT;  /* ABM */
        if (c & (1u << 8)) f |= CKERNELS_FEAT_PRFCHW; /* 3DNowPrefetch: prefetchw */
    }
    return f;
}

void ckernels_cpu_vendor(char out[13]) {
    unsigned a, b, c, d;
    memset(out, 0, 13);
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    memcpy(out, &b, 4);
    memcpy(out + 4, &d, 4);
    memcpy(out + 8, &c, 4);
}

int ckernels_cpu_family(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int family = (a >> 8) & 0xF;
    if (family == 0xF) family += (a >> 20) & 0xFF;
    return family;
}

int ckernels_cpu_model(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
    if (family == 0x6 || family == 0xF) model += ((a >> 16) & 0xF) << 4;
    return model;
}

void ckernels_cpu_brand(char out[49]) {
    unsigned regs[12];
    memset(out, 0, 49);
    if (__get_cpuid_max(0x80000000, NULL) < 0x80000004) return;
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    memcpy(out, regs, 48);
    /* trim leading spaces */
    size_t start = 0;
    while (start < 48 && out[start] == ' ') start++;
    if (start) memmove(out, out + start, 49 - start);
}
uint32_t ckernels_cpu_features(void) {
    /* Bit 31 marks the cache valid (no feature uses it). Racing first calls store the same value. */
    static uint32_t cached;
    uint32_t f = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (!(f & 0x80000000u)) {
        f = ckernels_cpu_features_probe() | 0x80000000u;
        __atomic_store_n(&cached, f, __ATOMIC_RELAXED);
    }
    return f & 0x7FFFFFFFu;
}
#else
uint32_t ckernels_cpu_features(void) { return 0; }
void ckernels_cpu_vendor(char out[13]) { memset(out, 0, 13); }
int ckernels_cpu_family(void) { return 0; }
int ckernels_cpu_model(void) { return 0; }
void ckernels_cpu_brand(char out[49]) { memset(out, 0, 49); }
#endif
