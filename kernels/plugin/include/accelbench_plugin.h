/* accelbench_plugin.h: the accelbench device plugin ABI, version 1.0 (C99).
 *
 * A plugin is a shared library (libaccelbench-plugin-NAME.so) that puts one device stack (CANN, BANG,
 * DTK, MUSA, CUDA, ...) behind this table. accelbench finds it on ACCELBENCH_PLUGIN_PATH or
 * --plugin-path, dlopens it (RTLD_NOW | RTLD_LOCAL), calls the one exported entry symbol
 * `accelbench_plugin_get_api` and from then on only calls through the returned table.
 *
 * VERSIONING (PJRT's rules)
 *  - ACCELBENCH_PLUGIN_ABI_MAJOR changes when anything is removed, retyped or reordered. The loader
 *    refuses a plugin of another major.
 *  - ACCELBENCH_PLUGIN_ABI_MINOR changes when something is appended: a new entry at the end of
 *    AccelbenchPluginApi, a new field at the end of an argument struct, a new enum value. The loader
 *    accepts any minor, older or newer.
 *  - Every struct starts with `size_t struct_size` (its size as the side that allocated it was compiled,
 *    set with ACCELBENCH_STRUCT_SIZE) and `void* extension` (NULL in 1.0; reserved for chained
 *    extension structs). A reader only touches fields that lie inside BOTH its own struct_size and the
 *    struct's: a plugin built against 1.0 ignores fields a newer accelbench appended, and accelbench
 *    never calls an entry of the table that lies beyond the plugin's `struct_size` (it treats the entry
 *    as "not implemented"). A NULL entry inside struct_size also means "not implemented".
 *  - Never reorder, remove or retype a field or entry in a released minor; freeze a copy of this header
 *    per minor under kernels/plugin/compat/ (accelbench_plugin_1_0.h is 1.0).
 *
 * ERRORS
 *  - Every fallible entry returns `AccelbenchPluginError*`: NULL on success, else an error the plugin
 *    allocated. The caller reads it with `error_code` / `error_message` and MUST release it with
 *    `error_destroy` (never free()). The message is owned by the error and valid until error_destroy.
 *  - Codes come from the fixed list AccelbenchErrorCode; new codes may only be appended (a loader maps an
 *    unknown code to INTERNAL).
 *
 * OWNERSHIP AND LIFETIME
 *  - Every out-pointer's comment says who owns what it points to and until when. Strings handed out by
 *    the plugin (names, versions, reasons) are owned by the plugin; unless the comment says otherwise they
 *    stay valid until the plugin is unloaded (static or per-device storage is the simple way).
 *  - Input pointers (host buffers, workload descriptions) are owned by the caller and only valid during
 *    the call: a plugin that needs them later copies them.
 *
 * THREADING
 *  - accelbench calls a plugin from one thread at a time per device; different devices may be driven
 *    from different threads. Entries that do not name a device must be thread-safe.
 *
 * CALL ORDER
 *    get_api -> plugin_info -> plugin_score (0: the loader unloads the plugin and logs the reason)
 *    -> plugin_initialize -> device_count / device_info / device_capabilities
 *    -> per case: buffer_allocate, buffer_to_device, workload_supported, run, synchronize,
 *       last_run_elapsed, buffer_to_host, buffer_free -> telemetry at any time after initialize
 *    -> plugin_shutdown (nothing is called after it but error_* for errors it returned).
 */
#ifndef ACCELBENCH_PLUGIN_H
#define ACCELBENCH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACCELBENCH_PLUGIN_ABI_MAJOR 1
#define ACCELBENCH_PLUGIN_ABI_MINOR 0

/* The one symbol a plugin exports. */
#define ACCELBENCH_PLUGIN_ENTRY_SYMBOL "accelbench_plugin_get_api"

/* The size of STRUCT up to and including its field LAST: what a side compiled against this header sets
 * struct_size to (so trailing padding of an older layout is never mistaken for a newer field). */
#define ACCELBENCH_STRUCT_SIZE(STRUCT, LAST) (offsetof(STRUCT, LAST) + sizeof(((STRUCT*)0)->LAST))

#if defined(_WIN32)
#define ACCELBENCH_PLUGIN_EXPORT __declspec(dllexport)
#else
#define ACCELBENCH_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------------------
 * Enumerations (values are fixed; new values are appended only)
 * ------------------------------------------------------------------------------------------------- */

typedef enum AccelbenchErrorCode {
    ACCELBENCH_ERROR_INVALID_ARGUMENT = 1, /* a NULL/short struct, a bad index, a buffer too small */
    ACCELBENCH_ERROR_UNSUPPORTED = 2,      /* workload, dtype or shape not implemented on this device */
    ACCELBENCH_ERROR_OUT_OF_MEMORY = 3,    /* device or host allocation failed */
    ACCELBENCH_ERROR_NOT_AVAILABLE = 4,    /* a query the device cannot answer (no power sensor, ...) */
    ACCELBENCH_ERROR_DEVICE = 5,           /* the driver/runtime reported an error; the message has its text */
    ACCELBENCH_ERROR_TIMEOUT = 6,          /* the device did not finish in time */
    ACCELBENCH_ERROR_INTERNAL = 7          /* a bug in the plugin */
} AccelbenchErrorCode;

/* Workloads, as accelbench defines them (`accelbench workloads`). */
typedef enum AccelbenchWorkloadKind {
    ACCELBENCH_WORKLOAD_MATMUL = 1,    /* C (MxN, fp32) = A (MxK) x B (KxN), row-major */
    ACCELBENCH_WORKLOAD_ATTENTION = 2, /* O = softmax(Q·Kᵀ·scale [+causal])·V, grouped-query heads */
    ACCELBENCH_WORKLOAD_QGEMV = 3,     /* Y (NxM) = X (NxK) · Wᵀ, W quantized MxK, N <= 16 tokens */
    ACCELBENCH_WORKLOAD_QGEMM = 4      /* the same for N > 16 tokens */
} AccelbenchWorkloadKind;

/* Element types, named as accelbench names them (--dtype). */
typedef enum AccelbenchDType {
    ACCELBENCH_DTYPE_FP32 = 1,
    ACCELBENCH_DTYPE_BF16 = 2,
    ACCELBENCH_DTYPE_FP16 = 3,
    ACCELBENCH_DTYPE_Q8_0 = 4, /* GGUF Q8_0: blocks of {fp16 d; int8 qs[32]} = 34 bytes per 32 values */
    ACCELBENCH_DTYPE_Q4_0 = 5, /* GGUF Q4_0: blocks of {fp16 d; uint8 qs[16]} = 18 bytes, (nibble - 8) * d,
                                  low nibbles are elements 0..15, high nibbles 16..31 */
    ACCELBENCH_DTYPE_W8A8 = 6  /* int8 weights, one fp32 scale per output row; int8 activations, one
                                  fp32 scale per token (symmetric absmax) */
} AccelbenchDType;

/* Bits of AccelbenchTelemetry.valid. */
enum {
    ACCELBENCH_TELEMETRY_ENERGY = 1u << 0,
    ACCELBENCH_TELEMETRY_POWER = 1u << 1,
    ACCELBENCH_TELEMETRY_CORE_CLOCK = 1u << 2,
    ACCELBENCH_TELEMETRY_MEMORY_CLOCK = 1u << 3,
    ACCELBENCH_TELEMETRY_TEMPERATURE = 1u << 4,
    ACCELBENCH_TELEMETRY_THROTTLE = 1u << 5
};

/* How last_run_elapsed measured. */
typedef enum AccelbenchTimingSource {
    ACCELBENCH_TIMING_DEVICE_EVENTS = 1, /* device-side events/timestamps around the kernel(s) */
    ACCELBENCH_TIMING_HOST_CLOCK = 2     /* host CLOCK_MONOTONIC around a synchronous run */
} AccelbenchTimingSource;

/* ---------------------------------------------------------------------------------------------------
 * Opaque handles (owned by the plugin)
 * ------------------------------------------------------------------------------------------------- */

typedef struct AccelbenchPluginError AccelbenchPluginError; /* freed with error_destroy */
typedef struct AccelbenchBuffer AccelbenchBuffer;           /* device memory; freed with buffer_free */

/* ---------------------------------------------------------------------------------------------------
 * Plain data structs
 * ------------------------------------------------------------------------------------------------- */

/* One device. Filled by device_info into a struct the caller allocated (caller sets struct_size; the
 * plugin writes only fields inside both sizes and sets struct_size to the size it filled). Strings are
 * owned by the plugin and valid until plugin_shutdown; NULL or "" when unknown. Numbers are 0 when
 * unknown. */
typedef struct AccelbenchDeviceInfo {
    size_t struct_size;
    void* extension;
    const char* name;             /* "Ascend 910B2", "MLU370-X8" */
    const char* vendor;           /* "Huawei", "Cambricon" */
    const char* architecture;     /* "da_vinci_v220", "mlu300", "sm_90" */
    uint64_t memory_bytes;        /* device memory usable by buffers */
    uint32_t core_clock_mhz;      /* maximum (boost) compute clock */
    uint32_t memory_clock_mhz;    /* maximum memory clock */
    uint32_t compute_units;       /* AI cores, clusters, SMs, CUs: the vendor's unit */
    const char* driver_version;
    const char* firmware_version;
    const char* runtime_version;  /* CANN 8.0.RC2, CNToolkit 3.x, ... */
    const char* pci_address;      /* "0000:3b:00.0" (domain:bus:device.function), NULL when not PCI */
    const char* uuid;             /* a stable device id when the stack has one */
} AccelbenchDeviceInfo;

/* One (workload, dtype) the device implements, with its shape limits (0: no limit). Arrays of these
 * are owned by the plugin (valid until plugin_shutdown). In an array, every element's struct_size is
 * sizeof(AccelbenchCapability) as the plugin was compiled (NOT ACCELBENCH_STRUCT_SIZE): the reader
 * walks the array with that stride, so a newer plugin's longer elements are walked correctly. */
typedef struct AccelbenchCapability {
    size_t struct_size;
    void* extension;
    AccelbenchWorkloadKind kind;
    AccelbenchDType dtype;
    uint64_t max_m, max_n, max_k;   /* matmul / quantized: per-dimension limits */
    uint64_t k_multiple;            /* K must be a multiple of this (quantized: 32); 0 or 1: any */
    uint64_t max_head_dim;          /* attention */
    uint64_t max_kv_length;         /* attention */
    uint64_t max_buffer_bytes;      /* largest single buffer */
} AccelbenchCapability;

/* A workload to run: the same fields accelbench's shapes have. Owned by the caller, valid during the
 * call only.
 *
 * Buffers of `run`, per kind (all row-major, densely packed, outputs fp32):
 *  MATMUL     inputs  [A: M x K in dtype (fp32/bf16/fp16), B: K x N in dtype]  outputs [C: M x N fp32]
 *  ATTENTION  inputs  [Q: batch x heads x query_length x head_dim fp32,
 *                      K: batch x kv_heads x kv_length x head_dim in dtype (fp32 or fp16),
 *                      V: as K]                                                outputs [O: as Q, fp32]
 *             query head h reads KV head h / (heads / kv_heads). scale: 1/sqrt(head_dim) when 0.
 *             causal: bottom-right aligned (query i sees keys 0 .. kv_length - query_length + i).
 *  QGEMV/QGEMM inputs [W: M rows of K in dtype (q8_0/q4_0: GGUF blocks, each row K/32 blocks),
 *                      X: N x K fp32]                                          outputs [Y: N x M fp32]
 *             q8_0/q4_0: X is quantized to q8_0 blocks inside the call, by ggml's quantize_row_q8_0
 *             rule (per block of 32: d = absmax / 127 in fp32, stored as fp16 (round to nearest even),
 *             q = roundf(x * (1 / d)) with the fp32 d), and each output sums d_w·d_x·dot over blocks.
 *             The harness checks against exactly those activations.
 *             w8a8: W is M*K int8 followed by M fp32 row scales (one buffer); X is quantized per token
 *             to int8 with scale absmax/127, q = round(x / scale).
 */
typedef struct AccelbenchWorkload {
    size_t struct_size;
    void* extension;
    AccelbenchWorkloadKind kind;
    AccelbenchDType dtype;
    uint64_t m, n, k;               /* MATMUL, QGEMV, QGEMM */
    uint64_t batch, heads, kv_heads, query_length, kv_length, head_dim; /* ATTENTION */
    uint32_t causal;                /* ATTENTION: 0 or 1 */
    float scale;                    /* ATTENTION: 0 = 1/sqrt(head_dim) */
} AccelbenchWorkload;

/* Device telemetry at one instant. Fields whose bit is not set in `valid` are meaningless. */
typedef struct AccelbenchTelemetry {
    size_t struct_size;
    void* extension;
    uint32_t valid;                 /* ACCELBENCH_TELEMETRY_* bits */
    double energy_joules;           /* cumulative energy counter (board), monotonic until it wraps */
    double energy_wrap_joules;      /* the counter wraps to 0 at this value; 0: never wraps */
    double power_watts;             /* instantaneous or driver-averaged board power */
    double power_average_seconds;   /* the driver's averaging window for power_watts; 0: unknown */
    uint32_t core_clock_mhz;        /* current */
    uint32_t memory_clock_mhz;      /* current */
    double temperature_c;           /* hottest on-die sensor */
    uint64_t throttle_mask;         /* vendor bits; 0: not throttled */
    const char* throttle_reasons;   /* "power cap,thermal" or "none"; owned by the plugin, valid until
                                       the next telemetry call for this device */
} AccelbenchTelemetry;

/* ---------------------------------------------------------------------------------------------------
 * Argument structs (one per entry; the caller allocates, sets struct_size and extension = NULL)
 * ------------------------------------------------------------------------------------------------- */

typedef struct AccelbenchErrorDestroyArgs {
    size_t struct_size;
    void* extension;
    AccelbenchPluginError* error;   /* in: the error to release (ownership passes back to the plugin) */
} AccelbenchErrorDestroyArgs;

typedef struct AccelbenchErrorMessageArgs {
    size_t struct_size;
    void* extension;
    const AccelbenchPluginError* error;
    const char* message;            /* out: NUL-terminated, owned by the error, valid until error_destroy */
    size_t message_size;            /* out: strlen(message) */
} AccelbenchErrorMessageArgs;

typedef struct AccelbenchErrorCodeArgs {
    size_t struct_size;
    void* extension;
    const AccelbenchPluginError* error;
    AccelbenchErrorCode code;       /* out */
} AccelbenchErrorCodeArgs;

typedef struct AccelbenchPluginInfoArgs {
    size_t struct_size;
    void* extension;
    const char* name;               /* out: short id, [a-z0-9_-]+ ("reference", "ascend"); plugin-owned, static */
    const char* version;            /* out: the plugin's own version; plugin-owned, static */
    const char* description;        /* out: one line; plugin-owned, static */
} AccelbenchPluginInfoArgs;

typedef struct AccelbenchPluginScoreArgs {
    size_t struct_size;
    void* extension;
    uint32_t score;                 /* out: 0 = decline this machine (no device, no driver); otherwise
                                       higher means a better fit (e.g. 100 = native runtime found) */
    const char* reason;             /* out: why declined, or what was found; plugin-owned, valid until
                                       the library is unloaded */
} AccelbenchPluginScoreArgs;

typedef struct AccelbenchPluginInitializeArgs {
    size_t struct_size;
    void* extension;
} AccelbenchPluginInitializeArgs;

typedef struct AccelbenchPluginShutdownArgs {
    size_t struct_size;
    void* extension;
} AccelbenchPluginShutdownArgs;

typedef struct AccelbenchDeviceCountArgs {
    size_t struct_size;
    void* extension;
    uint32_t count;                 /* out */
} AccelbenchDeviceCountArgs;

typedef struct AccelbenchDeviceInfoArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;                /* in: 0 ..< count */
    AccelbenchDeviceInfo* info;     /* in: caller-owned struct with struct_size set; filled by the plugin */
} AccelbenchDeviceInfoArgs;

typedef struct AccelbenchDeviceCapabilitiesArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;
    const AccelbenchCapability* capabilities; /* out: array owned by the plugin, valid until shutdown */
    size_t capability_count;                  /* out */
} AccelbenchDeviceCapabilitiesArgs;

typedef struct AccelbenchWorkloadSupportedArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;
    const AccelbenchWorkload* workload; /* in: caller-owned, valid during the call */
    uint32_t supported;                 /* out: 1 runs, 0 does not */
    const char* reason;                 /* out: why not; plugin-owned, valid until the next call of
                                           workload_supported on this device */
} AccelbenchWorkloadSupportedArgs;

typedef struct AccelbenchBufferAllocateArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;
    size_t bytes;                   /* in: > 0 */
    AccelbenchBuffer* buffer;       /* out: owned by the caller until passed to buffer_free */
} AccelbenchBufferAllocateArgs;

typedef struct AccelbenchBufferFreeArgs {
    size_t struct_size;
    void* extension;
    AccelbenchBuffer* buffer;       /* in: ownership passes back to the plugin */
} AccelbenchBufferFreeArgs;

/* Copies between host memory and a buffer. Synchronous: on return the host memory may be reused
 * (to_device) or read (to_host), and every earlier run on the device that wrote the buffer is done. */
typedef struct AccelbenchBufferCopyArgs {
    size_t struct_size;
    void* extension;
    AccelbenchBuffer* buffer;
    size_t offset;                  /* bytes into the buffer */
    size_t bytes;
    const void* source;             /* to_device: caller-owned host memory */
    void* destination;              /* to_host: caller-owned host memory */
} AccelbenchBufferCopyArgs;

typedef struct AccelbenchRunArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;
    const AccelbenchWorkload* workload;  /* caller-owned, valid during the call */
    AccelbenchBuffer* const* inputs;     /* caller-owned array, valid during the call; see AccelbenchWorkload */
    size_t input_count;
    AccelbenchBuffer* const* outputs;
    size_t output_count;
} AccelbenchRunArgs;

typedef struct AccelbenchSynchronizeArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;                /* waits until every run enqueued on the device has finished */
} AccelbenchSynchronizeArgs;

typedef struct AccelbenchLastRunElapsedArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;
    uint64_t elapsed_ns;            /* out: duration of the last finished run on the device */
    AccelbenchTimingSource source;  /* out: how it was measured */
} AccelbenchLastRunElapsedArgs;

typedef struct AccelbenchTelemetryArgs {
    size_t struct_size;
    void* extension;
    uint32_t device;
    AccelbenchTelemetry* telemetry; /* in: caller-owned with struct_size set; filled by the plugin. A
                                       device without any sensor returns ACCELBENCH_ERROR_NOT_AVAILABLE */
} AccelbenchTelemetryArgs;

/* ---------------------------------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------------------------------- */

typedef void (*AccelbenchErrorDestroyFn)(AccelbenchErrorDestroyArgs* args);
typedef void (*AccelbenchErrorMessageFn)(AccelbenchErrorMessageArgs* args);
typedef void (*AccelbenchErrorCodeFn)(AccelbenchErrorCodeArgs* args);
typedef AccelbenchPluginError* (*AccelbenchPluginInfoFn)(AccelbenchPluginInfoArgs* args);
typedef AccelbenchPluginError* (*AccelbenchPluginScoreFn)(AccelbenchPluginScoreArgs* args);
typedef AccelbenchPluginError* (*AccelbenchPluginInitializeFn)(AccelbenchPluginInitializeArgs* args);
typedef AccelbenchPluginError* (*AccelbenchPluginShutdownFn)(AccelbenchPluginShutdownArgs* args);
typedef AccelbenchPluginError* (*AccelbenchDeviceCountFn)(AccelbenchDeviceCountArgs* args);
typedef AccelbenchPluginError* (*AccelbenchDeviceInfoFn)(AccelbenchDeviceInfoArgs* args);
typedef AccelbenchPluginError* (*AccelbenchDeviceCapabilitiesFn)(AccelbenchDeviceCapabilitiesArgs* args);
typedef AccelbenchPluginError* (*AccelbenchWorkloadSupportedFn)(AccelbenchWorkloadSupportedArgs* args);
typedef AccelbenchPluginError* (*AccelbenchBufferAllocateFn)(AccelbenchBufferAllocateArgs* args);
typedef AccelbenchPluginError* (*AccelbenchBufferFreeFn)(AccelbenchBufferFreeArgs* args);
typedef AccelbenchPluginError* (*AccelbenchBufferCopyFn)(AccelbenchBufferCopyArgs* args);
typedef AccelbenchPluginError* (*AccelbenchRunFn)(AccelbenchRunArgs* args);
typedef AccelbenchPluginError* (*AccelbenchSynchronizeFn)(AccelbenchSynchronizeArgs* args);
typedef AccelbenchPluginError* (*AccelbenchLastRunElapsedFn)(AccelbenchLastRunElapsedArgs* args);
typedef AccelbenchPluginError* (*AccelbenchTelemetryFn)(AccelbenchTelemetryArgs* args);

/* Returned by accelbench_plugin_get_api: static, owned by the plugin, valid until the library is
 * unloaded. Entries are only appended (a minor bump). */
typedef struct AccelbenchPluginApi {
    size_t struct_size;             /* ACCELBENCH_STRUCT_SIZE(AccelbenchPluginApi, <last entry>) */
    uint32_t abi_major;             /* ACCELBENCH_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;             /* ACCELBENCH_PLUGIN_ABI_MINOR the plugin was built with */
    void* extension;

    /* errors */
    AccelbenchErrorDestroyFn error_destroy;
    AccelbenchErrorMessageFn error_message;
    AccelbenchErrorCodeFn error_code;
    /* plugin */
    AccelbenchPluginInfoFn plugin_info;
    AccelbenchPluginScoreFn plugin_score;
    AccelbenchPluginInitializeFn plugin_initialize;
    AccelbenchPluginShutdownFn plugin_shutdown;
    /* devices */
    AccelbenchDeviceCountFn device_count;
    AccelbenchDeviceInfoFn device_info;
    AccelbenchDeviceCapabilitiesFn device_capabilities;
    AccelbenchWorkloadSupportedFn workload_supported;
    /* buffers */
    AccelbenchBufferAllocateFn buffer_allocate;
    AccelbenchBufferFreeFn buffer_free;
    AccelbenchBufferCopyFn buffer_to_device;
    AccelbenchBufferCopyFn buffer_to_host;
    /* execution and timing */
    AccelbenchRunFn run;            /* may return before the work is done; synchronize waits */
    AccelbenchSynchronizeFn synchronize;
    AccelbenchLastRunElapsedFn last_run_elapsed;
    /* telemetry */
    AccelbenchTelemetryFn telemetry;
} AccelbenchPluginApi;

/* The entry symbol. Never NULL for a usable plugin; must not fail or touch the device (do that in
 * plugin_score / plugin_initialize). */
typedef const AccelbenchPluginApi* (*AccelbenchPluginGetApiFn)(void);
ACCELBENCH_PLUGIN_EXPORT const AccelbenchPluginApi* accelbench_plugin_get_api(void);

#ifdef __cplusplus
}
#endif

#endif /* ACCELBENCH_PLUGIN_H */
