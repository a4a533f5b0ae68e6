/* The accelbench reference plugin: the whole plugin ABI (accelbench_plugin.h) on the host CPU with
 * plain C kernels. It is the template a vendor copies: every entry below says what a real device
 * plugin does in its place (allocate device memory, enqueue a kernel on a stream, read a sensor...).
 *
 * "Device" 0 is this process's CPU: buffers are malloc'd host memory, runs are synchronous, timing is
 * CLOCK_MONOTONIC around the kernel, and telemetry answers ACCELBENCH_ERROR_NOT_AVAILABLE.
 *
 * Kernels (deliberately simple, single-threaded, correct first):
 *   matmul     fp32, bf16      C = A x B, i-k-j loop order (contiguous rows of B and C); bf16 inputs are
 *                              widened to fp32 (exact) and accumulated in fp32
 *   attention  kv=fp32/fp16    two passes per query row: scores + max, then exp-sum and P·V
 *   qgemv/qgemm q8_0/q4_0      GGUF blocks, activations quantized to q8_0 per call (ggml's rules)
 */
#include "accelbench_plugin.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ============================================ errors ============================================ */

/* The opaque error: a code and a message, both owned by the error. */
struct AccelbenchPluginError {
    AccelbenchErrorCode code;
    char message[256];
};

static AccelbenchPluginError* make_error(AccelbenchErrorCode code, const char* format, ...) {
    AccelbenchPluginError* error = malloc(sizeof *error);
    if (!error) return NULL; /* out of memory while reporting an error: nothing better to do */
    error->code = code;
    va_list list;
    va_start(list, format);
    vsnprintf(error->message, sizeof error->message, format, list);
    va_end(list);
    return error;
}

static void error_destroy(AccelbenchErrorDestroyArgs* args) { free(args->error); }

static void error_message(AccelbenchErrorMessageArgs* args) {
    args->message = args->error->message;
    args->message_size = strlen(args->error->message);
}

static void error_code(AccelbenchErrorCodeArgs* args) { args->code = args->error->code; }

/* Every entry validates its argument struct first: it must at least reach the fields this entry reads
 * (a caller built against an older minor passes a shorter struct; fields past its size are defaults). */
#define REQUIRE_ARGS(TYPE, ARGS, LAST)                                                                      \
    do {                                                                                                    \
        if (!(ARGS) || (ARGS)->struct_size < ACCELBENCH_STRUCT_SIZE(TYPE, LAST))                           \
            return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, #TYPE " is missing or too short");         \
    } while (0)

#define REQUIRE_DEVICE(ARGS)                                                                                \
    do {                                                                                                    \
        if ((ARGS)->device != 0)                                                                            \
            return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, "no device %u (1 device)", (ARGS)->device); \
    } while (0)

/* ============================================ plugin ============================================ */

static AccelbenchPluginError* plugin_info(AccelbenchPluginInfoArgs* args) {
    REQUIRE_ARGS(AccelbenchPluginInfoArgs, args, description);
    args->name = "reference";
    args->version = "1.0.0";
    args->description = "accelbench reference plugin: plain C kernels on the host CPU";
    return NULL;
}

/* A real plugin checks here that its driver loads and sees at least one device, and declines (score 0,
 * with the reason) when it does not: e.g. "libascendcl.so not found" or "no MLU device". */
static AccelbenchPluginError* plugin_score(AccelbenchPluginScoreArgs* args) {
    REQUIRE_ARGS(AccelbenchPluginScoreArgs, args, reason);
    args->score = 1; /* always usable, but any native plugin should outrank it */
    args->reason = "host CPU, always present";
    return NULL;
}

/* A real plugin initializes its runtime here (aclInit, cnrtInit, ...), and releases it in shutdown. */
static AccelbenchPluginError* plugin_initialize(AccelbenchPluginInitializeArgs* args) {
    REQUIRE_ARGS(AccelbenchPluginInitializeArgs, args, extension);
    return NULL;
}

static AccelbenchPluginError* plugin_shutdown(AccelbenchPluginShutdownArgs* args) {
    REQUIRE_ARGS(AccelbenchPluginShutdownArgs, args, extension);
    return NULL;
}

/* ============================================ devices =========================================== */

static AccelbenchPluginError* device_count(AccelbenchDeviceCountArgs* args) {
    REQUIRE_ARGS(AccelbenchDeviceCountArgs, args, count);
    args->count = 1;
    return NULL;
}

/* Fills only the fields inside the caller's struct: copy into a full local, then the common prefix. */
static AccelbenchPluginError* device_info(AccelbenchDeviceInfoArgs* args) {
    REQUIRE_ARGS(AccelbenchDeviceInfoArgs, args, info);
    REQUIRE_DEVICE(args);
    if (!args->info || args->info->struct_size < sizeof(size_t))
        return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, "device_info: info is missing");
    AccelbenchDeviceInfo info = {0};
    info.struct_size = ACCELBENCH_STRUCT_SIZE(AccelbenchDeviceInfo, uuid);
    info.name = "host CPU (reference plugin)";
    info.vendor = "accelbench";
    info.architecture = "host";
    info.memory_bytes = 0; /* unknown: a real plugin reports the device's memory (aclrtGetMemInfo, ...) */
    info.compute_units = 1; /* the kernels are single-threaded */
    info.driver_version = "none";
    info.firmware_version = "none";
    info.runtime_version = "C99";
    info.pci_address = NULL; /* not a PCI device */
    info.uuid = NULL;
    size_t size = args->info->struct_size < info.struct_size ? args->info->struct_size : info.struct_size;
    memcpy((char*)args->info + sizeof(size_t) + sizeof(void*), (char*)&info + sizeof(size_t) + sizeof(void*),
           size > sizeof(size_t) + sizeof(void*) ? size - sizeof(size_t) - sizeof(void*) : 0);
    args->info->struct_size = size;
    return NULL;
}

#define CAPABILITY(KIND, DTYPE, KMULT)                                                                      \
    { sizeof(AccelbenchCapability), NULL, KIND, DTYPE, 0, 0, 0, KMULT, 0, 0, 0 }

static const AccelbenchCapability capabilities[] = {
    CAPABILITY(ACCELBENCH_WORKLOAD_MATMUL, ACCELBENCH_DTYPE_FP32, 0),
    CAPABILITY(ACCELBENCH_WORKLOAD_MATMUL, ACCELBENCH_DTYPE_BF16, 0),
    CAPABILITY(ACCELBENCH_WORKLOAD_ATTENTION, ACCELBENCH_DTYPE_FP32, 0),
    CAPABILITY(ACCELBENCH_WORKLOAD_ATTENTION, ACCELBENCH_DTYPE_FP16, 0),
    CAPABILITY(ACCELBENCH_WORKLOAD_QGEMV, ACCELBENCH_DTYPE_Q8_0, 32),
    CAPABILITY(ACCELBENCH_WORKLOAD_QGEMM, ACCELBENCH_DTYPE_Q8_0, 32),
    CAPABILITY(ACCELBENCH_WORKLOAD_QGEMV, ACCELBENCH_DTYPE_Q4_0, 32),
    CAPABILITY(ACCELBENCH_WORKLOAD_QGEMM, ACCELBENCH_DTYPE_Q4_0, 32),
};

static AccelbenchPluginError* device_capabilities(AccelbenchDeviceCapabilitiesArgs* args) {
    REQUIRE_ARGS(AccelbenchDeviceCapabilitiesArgs, args, capability_count);
    REQUIRE_DEVICE(args);
    args->capabilities = capabilities;
    args->capability_count = sizeof capabilities / sizeof capabilities[0];
    return NULL;
}

/* Why this device cannot run `w`, or NULL. Shared by workload_supported and run. */
static const char* unsupported_reason(const AccelbenchWorkload* w) {
    if (!w || w->struct_size < ACCELBENCH_STRUCT_SIZE(AccelbenchWorkload, scale)) return "workload struct too short";
    switch (w->kind) {
    case ACCELBENCH_WORKLOAD_MATMUL:
        if (w->dtype != ACCELBENCH_DTYPE_FP32 && w->dtype != ACCELBENCH_DTYPE_BF16)
            return "matmul: the reference plugin implements fp32 and bf16";
        if (!w->m || !w->n || !w->k) return "matmul: M, N and K must be >= 1";
        return NULL;
    case ACCELBENCH_WORKLOAD_ATTENTION:
        if (w->dtype != ACCELBENCH_DTYPE_FP32 && w->dtype != ACCELBENCH_DTYPE_FP16)
            return "attention: the KV cache must be fp32 or fp16";
        if (!w->batch || !w->heads || !w->kv_heads || !w->query_length || !w->kv_length || !w->head_dim)
            return "attention: every dimension must be >= 1";
        if (w->heads % w->kv_heads) return "attention: heads must be a multiple of kv_heads";
        if (w->causal && w->query_length > w->kv_length) return "attention: causal needs query_length <= kv_length";
        return NULL;
    case ACCELBENCH_WORKLOAD_QGEMV:
    case ACCELBENCH_WORKLOAD_QGEMM:
        if (w->dtype != ACCELBENCH_DTYPE_Q8_0 && w->dtype != ACCELBENCH_DTYPE_Q4_0)
            return "quantized: the reference plugin implements q8_0 and q4_0";
        if (!w->m || !w->n || !w->k || w->k % 32) return "quantized: M, N >= 1 and K a multiple of 32";
        return NULL;
    }
    return "unknown workload kind";
}

static AccelbenchPluginError* workload_supported(AccelbenchWorkloadSupportedArgs* args) {
    REQUIRE_ARGS(AccelbenchWorkloadSupportedArgs, args, reason);
    REQUIRE_DEVICE(args);
    args->reason = unsupported_reason(args->workload); /* static strings: valid for ever */
    args->supported = args->reason == NULL;
    return NULL;
}

/* ============================================ buffers =========================================== */

/* A "device" buffer is host memory here; a real plugin wraps its device pointer (aclrtMalloc, cnrtMalloc). */
struct AccelbenchBuffer {
    size_t bytes;
    unsigned char* data;
};

static AccelbenchPluginError* buffer_allocate(AccelbenchBufferAllocateArgs* args) {
    REQUIRE_ARGS(AccelbenchBufferAllocateArgs, args, buffer);
    REQUIRE_DEVICE(args);
    if (args->bytes == 0) return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, "buffer_allocate: 0 bytes");
    AccelbenchBuffer* buffer = malloc(sizeof *buffer);
    void* data = NULL;
    if (!buffer || posix_memalign(&data, 64, args->bytes) != 0) {
        free(buffer);
        return make_error(ACCELBENCH_ERROR_OUT_OF_MEMORY, "buffer_allocate: %zu bytes", args->bytes);
    }
    buffer->bytes = args->bytes;
    buffer->data = data;
    args->buffer = buffer;
    return NULL;
}

static AccelbenchPluginError* buffer_free(AccelbenchBufferFreeArgs* args) {
    REQUIRE_ARGS(AccelbenchBufferFreeArgs, args, buffer);
    if (args->buffer) free(args->buffer->data);
    free(args->buffer);
    return NULL;
}

static AccelbenchPluginError* check_copy(const AccelbenchBufferCopyArgs* args) {
    if (!args->buffer || args->offset > args->buffer->bytes || args->bytes > args->buffer->bytes - args->offset)
        return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, "copy of %zu bytes at %zu is outside the buffer",
                          args->bytes, args->offset);
    return NULL;
}

/* A real plugin: a synchronous host-to-device copy (aclrtMemcpy ... HOST_TO_DEVICE). */
static AccelbenchPluginError* buffer_to_device(AccelbenchBufferCopyArgs* args) {
    REQUIRE_ARGS(AccelbenchBufferCopyArgs, args, destination);
    AccelbenchPluginError* error = check_copy(args);
    if (error) return error;
    memcpy(args->buffer->data + args->offset, args->source, args->bytes);
    return NULL;
}

static AccelbenchPluginError* buffer_to_host(AccelbenchBufferCopyArgs* args) {
    REQUIRE_ARGS(AccelbenchBufferCopyArgs, args, destination);
    AccelbenchPluginError* error = check_copy(args);
    if (error) return error;
    memcpy(args->destination, args->buffer->data + args->offset, args->bytes);
    return NULL;
}

/* ============================================ kernels =========================================== */

/* fp16 <-> fp32, round to nearest even (what hardware conversions and ggml do). */
static float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    float value;
    if (exponent == 0) value = ldexpf((float)mantissa, -24); /* zero and subnormals */
    else if (exponent == 31) value = mantissa ? NAN : INFINITY;
    else value = ldexpf((float)(mantissa | 0x400), (int)exponent - 25);
    uint32_t bits;
    memcpy(&bits, &value, 4);
    bits |= sign;
    memcpy(&value, &bits, 4);
    return value;
}

static uint16_t fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const float a = fabsf(f);
    if (isnan(f)) return sign | 0x7E00;
    if (a >= 65520.0f) return sign | 0x7C00; /* rounds to infinity */
    if (a < 0x1p-14f) {                      /* subnormal half: a multiple of 2^-24 */
        return sign | (uint16_t)lrintf(a * 0x1p24f); /* lrintf rounds to nearest even by default */
    }
    int exponent;
    const float m = frexpf(a, &exponent);                /* a = m * 2^exponent, m in [0.5, 1) */
    long q = lrintf(ldexpf(m, 11));                      /* 11 significant bits, rounded to even */
    if (q == 2048) { q = 1024; exponent += 1; }
    return sign | (uint16_t)(((exponent + 14) << 10) + (q - 1024));
}

/* C (MxN) = A (MxK) x B (KxN), fp32, row-major. */
static void matmul_fp32(const float* a, const float* b, float* c, uint64_t m, uint64_t n, uint64_t k) {
    for (uint64_t i = 0; i < m; i++) {
        float* row = c + i * n;
        for (uint64_t j = 0; j < n; j++) row[j] = 0.0f;
        for (uint64_t p = 0; p < k; p++) {
            const float aip = a[i * k + p];
            const float* brow = b + p * n;
            for (uint64_t j = 0; j < n; j++) row[j] += aip * brow[j];
        }
    }
}

/* bf16 -> fp32: the bf16 bits are the top half of the fp32 (exact). */
static void widen_bf16(const uint16_t* x, float* y, uint64_t count) {
    for (uint64_t i = 0; i < count; i++) {
        const uint32_t bits = (uint32_t)x[i] << 16;
        memcpy(&y[i], &bits, 4);
    }
}

/* Attention, one query row at a time: scores s_j = q·k_j·scale (masked keys skipped), then
 * o = Σ exp(s_j - max) v_j / Σ exp(s_j - max). `scores` holds kv_length floats. */
static void attention(const AccelbenchWorkload* w, const float* q, const void* k, const void* v, float* o,
                      float* scores) {
    const uint64_t d = w->head_dim, group = w->heads / w->kv_heads;
    const float scale = w->scale != 0.0f ? w->scale : 1.0f / sqrtf((float)d);
    const int half = w->dtype == ACCELBENCH_DTYPE_FP16;
    for (uint64_t b = 0; b < w->batch; b++)
        for (uint64_t h = 0; h < w->heads; h++) {
            const uint64_t kvh = h / group;
            const uint64_t kv_base = (b * w->kv_heads + kvh) * w->kv_length * d; /* element index */
            for (uint64_t i = 0; i < w->query_length; i++) {
                const float* qrow = q + ((b * w->heads + h) * w->query_length + i) * d;
                float* orow = o + ((b * w->heads + h) * w->query_length + i) * d;
                /* keys 0 ..< visible (bottom-right aligned causal mask) */
                const uint64_t visible = w->causal ? w->kv_length - w->query_length + i + 1 : w->kv_length;
                float max = -INFINITY;
                for (uint64_t j = 0; j < visible; j++) {
                    float dot = 0.0f;
                    for (uint64_t c = 0; c < d; c++) {
                        const uint64_t e = kv_base + j * d + c;
                        const float kj = half ? fp16_to_fp32(((const uint16_t*)k)[e]) : ((const float*)k)[e];
                        dot += qrow[c] * kj;
                    }
                    scores[j] = dot * scale;
                    if (scores[j] > max) max = scores[j];
                }
                float sum = 0.0f;
                for (uint64_t c = 0; c < d; c++) orow[c] = 0.0f;
                for (uint64_t j = 0; j < visible; j++) {
                    const float p = expf(scores[j] - max);
                    sum += p;
                    for (uint64_t c = 0; c < d; c++) {
                        const uint64_t e = kv_base + j * d + c;
                        const float vj = half ? fp16_to_fp32(((const uint16_t*)v)[e]) : ((const float*)v)[e];
                        orow[c] += p * vj;
                    }
                }
                for (uint64_t c = 0; c < d; c++) orow[c] /= sum;
            }
        }
}

/* GGUF Q8_0 block: 32 int8 values times one fp16 scale. */
typedef struct {
    uint16_t d;
    int8_t qs[32];
} BlockQ8_0;

/* GGUF Q4_0 block: 32 4-bit values (offset 8) times one fp16 scale; byte j holds element j in its low
 * nibble and element j + 16 in its high nibble. */
typedef struct {
    uint16_t d;
    uint8_t qs[16];
} BlockQ4_0;

/* ggml's quantize_row_q8_0_ref, one block. */
static void quantize_block_q8_0(const float* x, BlockQ8_0* y) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y->d = fp32_to_fp16(d);
    for (int j = 0; j < 32; j++) y->qs[j] = (int8_t)roundf(x[j] * id);
}

/* Y (N x M) = X (N x K) · Wᵀ, W in q8_0 (M rows of K/32 blocks). X is quantized into `xq` (N*K/32
 * blocks) inside the call, as a device kernel would. Each output: Σ over blocks of d_w·d_x·dot, fp32. */
static void qgemm_q8_0(const BlockQ8_0* w, const float* x, float* y, BlockQ8_0* xq, uint64_t m, uint64_t n,
                       uint64_t k) {
    const uint64_t blocks = k / 32;
    for (uint64_t t = 0; t < n; t++)
        for (uint64_t b = 0; b < blocks; b++) quantize_block_q8_0(x + t * k + b * 32, xq + t * blocks + b);
    for (uint64_t t = 0; t < n; t++)
        for (uint64_t i = 0; i < m; i++) {
            float acc = 0.0f;
            for (uint64_t b = 0; b < blocks; b++) {
                const BlockQ8_0* wb = w + i * blocks + b;
                const BlockQ8_0* xb = xq + t * blocks + b;
                int32_t dot = 0;
                for (int j = 0; j < 32; j++) dot += (int32_t)wb->qs[j] * (int32_t)xb->qs[j];
                acc = fmaf(fp16_to_fp32(wb->d) * fp16_to_fp32(xb->d), (float)dot, acc);
            }
            y[t * m + i] = acc;
        }
}

/* The same for q4_0 weights (ggml's vec_dot_q4_0_q8_0 per block). */
static void qgemm_q4_0(const BlockQ4_0* w, const float* x, float* y, BlockQ8_0* xq, uint64_t m, uint64_t n,
                       uint64_t k) {
    const uint64_t blocks = k / 32;
    for (uint64_t t = 0; t < n; t++)
        for (uint64_t b = 0; b < blocks; b++) quantize_block_q8_0(x + t * k + b * 32, xq + t * blocks + b);
    for (uint64_t t = 0; t < n; t++)
        for (uint64_t i = 0; i < m; i++) {
            float acc = 0.0f;
            for (uint64_t b = 0; b < blocks; b++) {
                const BlockQ4_0* wb = w + i * blocks + b;
                const BlockQ8_0* xb = xq + t * blocks + b;
                int32_t dot = 0;
                for (int j = 0; j < 16; j++) {
                    dot += ((int32_t)(wb->qs[j] & 0x0F) - 8) * (int32_t)xb->qs[j];
                    dot += ((int32_t)(wb->qs[j] >> 4) - 8) * (int32_t)xb->qs[j + 16];
                }
                acc = fmaf(fp16_to_fp32(wb->d) * fp16_to_fp32(xb->d), (float)dot, acc);
            }
            y[t * m + i] = acc;
        }
}

/* ============================================ execution ========================================= */

static uint64_t last_elapsed_ns; /* the one device's last run; accelbench drives a device from one thread */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Checks that buffer `i` of `list` exists and holds at least `bytes`. */
static AccelbenchPluginError* need(AccelbenchBuffer* const* list, size_t count, size_t i, uint64_t bytes,
                                   const char* what) {
    if (i >= count || !list[i]) return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, "missing buffer %s", what);
    if (list[i]->bytes < bytes)
        return make_error(ACCELBENCH_ERROR_INVALID_ARGUMENT, "buffer %s holds %zu bytes, needs %llu", what,
                          list[i]->bytes, (unsigned long long)bytes);
    return NULL;
}

#define NEED(LIST, COUNT, I, BYTES, WHAT)                                                                   \
    do {                                                                                                    \
        AccelbenchPluginError* e = need(LIST, COUNT, I, BYTES, WHAT);                                       \
        if (e) return e;                                                                                    \
    } while (0)

/* A real plugin enqueues the kernel on the device's stream and returns; synchronize waits, and
 * last_run_elapsed reads a pair of device events recorded around it. Here the run is synchronous. */
static AccelbenchPluginError* run(AccelbenchRunArgs* args) {
    REQUIRE_ARGS(AccelbenchRunArgs, args, output_count);
    REQUIRE_DEVICE(args);
    const AccelbenchWorkload* w = args->workload;
    const char* reason = unsupported_reason(w);
    if (reason) return make_error(ACCELBENCH_ERROR_UNSUPPORTED, "%s", reason);
    AccelbenchBuffer* const* in = args->inputs;
    AccelbenchBuffer* const* out = args->outputs;
    const size_t nin = args->input_count, nout = args->output_count;
    uint64_t start = 0;
    switch (w->kind) {
    case ACCELBENCH_WORKLOAD_MATMUL: {
        const uint64_t bytes = w->dtype == ACCELBENCH_DTYPE_BF16 ? 2 : 4;
        NEED(in, nin, 0, w->m * w->k * bytes, "A");
        NEED(in, nin, 1, w->k * w->n * bytes, "B");
        NEED(out, nout, 0, w->m * w->n * 4, "C");
        if (w->dtype == ACCELBENCH_DTYPE_FP32) {
            start = now_ns();
            matmul_fp32((const float*)in[0]->data, (const float*)in[1]->data, (float*)out[0]->data, w->m, w->n, w->k);
            break;
        }
        /* bf16: widen both inputs (a device would feed bf16 straight to its matrix unit) */
        float* a = malloc(w->m * w->k * sizeof(float));
        float* b = malloc(w->k * w->n * sizeof(float));
        if (!a || !b) {
            free(a);
            free(b);
            return make_error(ACCELBENCH_ERROR_OUT_OF_MEMORY, "bf16 widening scratch");
        }
        start = now_ns();
        widen_bf16((const uint16_t*)in[0]->data, a, w->m * w->k);
        widen_bf16((const uint16_t*)in[1]->data, b, w->k * w->n);
        matmul_fp32(a, b, (float*)out[0]->data, w->m, w->n, w->k);
        last_elapsed_ns = now_ns() - start;
        free(a);
        free(b);
        return NULL;
    }
    case ACCELBENCH_WORKLOAD_ATTENTION: {
        const uint64_t qbytes = w->batch * w->heads * w->query_length * w->head_dim * 4;
        const uint64_t kvbytes = w->batch * w->kv_heads * w->kv_length * w->head_dim *
                                 (w->dtype == ACCELBENCH_DTYPE_FP16 ? 2 : 4);
        NEED(in, nin, 0, qbytes, "Q");
        NEED(in, nin, 1, kvbytes, "K");
        NEED(in, nin, 2, kvbytes, "V");
        NEED(out, nout, 0, qbytes, "O");
        float* scores = malloc(w->kv_length * sizeof(float)); /* scratch: a real plugin keeps it on the device */
        if (!scores) return make_error(ACCELBENCH_ERROR_OUT_OF_MEMORY, "attention scratch");
        start = now_ns();
        attention(w, (const float*)in[0]->data, in[1]->data, in[2]->data, (float*)out[0]->data, scores);
        last_elapsed_ns = now_ns() - start;
        free(scores);
        return NULL;
    }
    case ACCELBENCH_WORKLOAD_QGEMV:
    case ACCELBENCH_WORKLOAD_QGEMM: {
        const uint64_t blocks = w->k / 32;
        const int q8 = w->dtype == ACCELBENCH_DTYPE_Q8_0;
        NEED(in, nin, 0, w->m * blocks * (q8 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0)), "W");
        NEED(in, nin, 1, w->n * w->k * 4, "X");
        NEED(out, nout, 0, w->n * w->m * 4, "Y");
        BlockQ8_0* xq = malloc(w->n * blocks * sizeof(BlockQ8_0)); /* the quantized activations */
        if (!xq) return make_error(ACCELBENCH_ERROR_OUT_OF_MEMORY, "activation scratch");
        start = now_ns();
        if (q8)
            qgemm_q8_0((const BlockQ8_0*)in[0]->data, (const float*)in[1]->data, (float*)out[0]->data, xq, w->m,
                       w->n, w->k);
        else
            qgemm_q4_0((const BlockQ4_0*)in[0]->data, (const float*)in[1]->data, (float*)out[0]->data, xq, w->m,
                       w->n, w->k);
        last_elapsed_ns = now_ns() - start;
        free(xq);
        return NULL;
    }
    }
    last_elapsed_ns = now_ns() - start;
    return NULL;
}

/* Runs are synchronous here; a real plugin waits on its stream (aclrtSynchronizeStream, cnrtQueueSync). */
static AccelbenchPluginError* synchronize(AccelbenchSynchronizeArgs* args) {
    REQUIRE_ARGS(AccelbenchSynchronizeArgs, args, device);
    REQUIRE_DEVICE(args);
    return NULL;
}

static AccelbenchPluginError* last_run_elapsed(AccelbenchLastRunElapsedArgs* args) {
    REQUIRE_ARGS(AccelbenchLastRunElapsedArgs, args, source);
    REQUIRE_DEVICE(args);
    args->elapsed_ns = last_elapsed_ns;
    args->source = ACCELBENCH_TIMING_HOST_CLOCK;
    return NULL;
}

/* No sensors on this "device". A real plugin fills what its driver reports (e.g. dcmi / cndev power,
 * clocks, temperature) and sets the matching ACCELBENCH_TELEMETRY_* bits. */
static AccelbenchPluginError* telemetry(AccelbenchTelemetryArgs* args) {
    REQUIRE_ARGS(AccelbenchTelemetryArgs, args, telemetry);
    REQUIRE_DEVICE(args);
    return make_error(ACCELBENCH_ERROR_NOT_AVAILABLE, "the reference plugin has no power, clock or thermal sensors");
}

/* ============================================ the table ========================================= */

static const AccelbenchPluginApi api = {
    .struct_size = ACCELBENCH_STRUCT_SIZE(AccelbenchPluginApi, telemetry),
    .abi_major = ACCELBENCH_PLUGIN_ABI_MAJOR,
    .abi_minor = ACCELBENCH_PLUGIN_ABI_MINOR,
    .extension = NULL,
    .error_destroy = error_destroy,
    .error_message = error_message,
    .error_code = error_code,
    .plugin_info = plugin_info,
    .plugin_score = plugin_score,
    .plugin_initialize = plugin_initialize,
    .plugin_shutdown = plugin_shutdown,
    .device_count = device_count,
    .device_info = device_info,
    .device_capabilities = device_capabilities,
    .workload_supported = workload_supported,
    .buffer_allocate = buffer_allocate,
    .buffer_free = buffer_free,
    .buffer_to_device = buffer_to_device,
    .buffer_to_host = buffer_to_host,
    .run = run,
    .synchronize = synchronize,
    .last_run_elapsed = last_run_elapsed,
    .telemetry = telemetry,
};

ACCELBENCH_PLUGIN_EXPORT const AccelbenchPluginApi* accelbench_plugin_get_api(void) { return &api; }
