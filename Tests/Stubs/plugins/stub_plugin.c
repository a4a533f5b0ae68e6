/* Stub plugins for the loader tests (Tests/AccelBenchPluginsTests), one source compiled once per
 * variant with -DSTUB_<VARIANT>. Each is a minimal fp32-matmul plugin that misbehaves in one way:
 *
 *   STUB_WRONG_MAJOR    abi_major = 2                     -> skipped: "ABI major 2, this accelbench speaks 1"
 *   STUB_NEWER_MINOR    abi_minor = 7, a longer table     -> loads and runs; extra entries ignored
 *   STUB_SHORT_TABLE    struct_size ends before telemetry -> loads; telemetry (which would abort) never called
 *   STUB_NO_ENTRY       exports no accelbench_plugin_get_api -> skipped: missing entry symbol
 *   STUB_DECLINE        plugin_score = 0 with a reason    -> skipped with that reason
 *   STUB_CRASH          run dereferences NULL (SIGSEGV)   -> loads; only ever run out of process
 *   STUB_HANG           run never returns                 -> loads; only ever run out of process
 *   STUB_WRONG_RESULT   run drops the last k term         -> loads; its cases fail the float64 check
 */
#include "accelbench_plugin.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct AccelbenchPluginError {
    AccelbenchErrorCode code;
    const char* message;
};
struct AccelbenchBuffer {
    size_t bytes;
    unsigned char* data;
};

static AccelbenchPluginError* fail(AccelbenchErrorCode code, const char* message) {
    AccelbenchPluginError* e = malloc(sizeof *e);
    e->code = code;
    e->message = message;
    return e;
}

static void error_destroy(AccelbenchErrorDestroyArgs* a) { free(a->error); }
static void error_message(AccelbenchErrorMessageArgs* a) {
    a->message = a->error->message;
    a->message_size = strlen(a->message);
}
static void error_code(AccelbenchErrorCodeArgs* a) { a->code = a->error->code; }

#if defined(STUB_WRONG_MAJOR)
#define STUB_NAME "stub-wrong-major"
#elif defined(STUB_NEWER_MINOR)
#define STUB_NAME "stub-newer-minor"
#elif defined(STUB_SHORT_TABLE)
#define STUB_NAME "stub-short-table"
#elif defined(STUB_DECLINE)
#define STUB_NAME "stub-decline"
#elif defined(STUB_CRASH)
#define STUB_NAME "stub-crash"
#elif defined(STUB_HANG)
#define STUB_NAME "stub-hang"
#elif defined(STUB_WRONG_RESULT)
#define STUB_NAME "stub-wrong-result"
#else
#define STUB_NAME "stub"
#endif

static AccelbenchPluginError* plugin_info(AccelbenchPluginInfoArgs* a) {
    a->name = STUB_NAME;
    a->version = "0.1";
    a->description = "loader test stub";
    return NULL;
}

static AccelbenchPluginError* plugin_score(AccelbenchPluginScoreArgs* a) {
#if defined(STUB_DECLINE)
    a->score = 0;
    a->reason = "no stub device on this machine";
#else
    a->score = 1;
    a->reason = "stub";
#endif
    return NULL;
}

static AccelbenchPluginError* nothing(void* a) {
    (void)a;
    return NULL;
}

static AccelbenchPluginError* device_count(AccelbenchDeviceCountArgs* a) {
    a->count = 1;
    return NULL;
}

static AccelbenchPluginError* device_info(AccelbenchDeviceInfoArgs* a) {
    if (a->device != 0) return fail(ACCELBENCH_ERROR_INVALID_ARGUMENT, "no such device");
    if (a->info->struct_size >= ACCELBENCH_STRUCT_SIZE(AccelbenchDeviceInfo, architecture)) {
        a->info->name = "stub device";
        a->info->vendor = "accelbench tests";
        a->info->architecture = "stub";
    }
    return NULL;
}

static const AccelbenchCapability caps[] = {
    {sizeof(AccelbenchCapability), NULL, ACCELBENCH_WORKLOAD_MATMUL,
     ACCELBENCH_DTYPE_FP32, 0, 0, 0, 0, 0, 0, 0},
};

static AccelbenchPluginError* device_capabilities(AccelbenchDeviceCapabilitiesArgs* a) {
    a->capabilities = caps;
    a->capability_count = 1;
    return NULL;
}

static AccelbenchPluginError* workload_supported(AccelbenchWorkloadSupportedArgs* a) {
    const int ok = a->workload->kind == ACCELBENCH_WORKLOAD_MATMUL && a->workload->dtype == ACCELBENCH_DTYPE_FP32;
    a->supported = ok;
    a->reason = ok ? NULL : "stub: fp32 matmul only";
    return NULL;
}

static AccelbenchPluginError* buffer_allocate(AccelbenchBufferAllocateArgs* a) {
    AccelbenchBuffer* b = malloc(sizeof *b);
    b->bytes = a->bytes;
    b->data = malloc(a->bytes);
    a->buffer = b;
    return NULL;
}

static AccelbenchPluginError* buffer_free(AccelbenchBufferFreeArgs* a) {
    free(a->buffer->data);
    free(a->buffer);
    return NULL;
}

static AccelbenchPluginError* to_device(AccelbenchBufferCopyArgs* a) {
    memcpy(a->buffer->data + a->offset, a->source, a->bytes);
    return NULL;
}

static AccelbenchPluginError* to_host(AccelbenchBufferCopyArgs* a) {
    memcpy(a->destination, a->buffer->data + a->offset, a->bytes);
    return NULL;
}

static AccelbenchPluginError* run(AccelbenchRunArgs* args) {
    const AccelbenchWorkload* w = args->workload;
    if (w->kind != ACCELBENCH_WORKLOAD_MATMUL || w->dtype != ACCELBENCH_DTYPE_FP32)
        return fail(ACCELBENCH_ERROR_UNSUPPORTED, "stub: fp32 matmul only");
#if defined(STUB_CRASH)
    *(volatile int*)(uintptr_t)0 = 1; /* SIGSEGV */
#elif defined(STUB_HANG)
    for (;;) pause();
#endif
    const float* a = (const float*)args->inputs[0]->data;
    const float* b = (const float*)args->inputs[1]->data;
    float* c = (float*)args->outputs[0]->data;
    uint64_t k = w->k;
#if defined(STUB_WRONG_RESULT)
    if (k > 1) k -= 1; /* a dropped product: the bug the float64 check is there to catch */
#endif
    for (uint64_t i = 0; i < w->m; i++)
        for (uint64_t j = 0; j < w->n; j++) {
            float s = 0.0f;
            for (uint64_t p = 0; p < k; p++) s += a[i * w->k + p] * b[p * w->n + j];
            c[i * w->n + j] = s;
        }
    return NULL;
}

static AccelbenchPluginError* last_run_elapsed(AccelbenchLastRunElapsedArgs* a) {
    a->elapsed_ns = 1;
    a->source = ACCELBENCH_TIMING_HOST_CLOCK;
    return NULL;
}

static AccelbenchPluginError* telemetry(AccelbenchTelemetryArgs* a) {
#if defined(STUB_SHORT_TABLE)
    (void)a;
    abort(); /* outside the table's struct_size: the loader must never call it */
#else
    a->telemetry->valid = ACCELBENCH_TELEMETRY_POWER | ACCELBENCH_TELEMETRY_TEMPERATURE;
    a->telemetry->power_watts = 42.5;
    a->telemetry->temperature_c = 55;
    return NULL;
#endif
}

/* A table as a newer minor would have it: the 1.0 table, then entries this loader does not know. */
typedef struct {
    AccelbenchPluginApi v1_0;
    void (*future_entry_a)(void);
    void (*future_entry_b)(void);
} NewerApi;

static void future_entry(void) { abort(); }

static const NewerApi api = {
    .v1_0 = {
#if defined(STUB_NEWER_MINOR)
        .struct_size = sizeof(NewerApi),
#elif defined(STUB_SHORT_TABLE)
        .struct_size = ACCELBENCH_STRUCT_SIZE(AccelbenchPluginApi, last_run_elapsed),
#else
        .struct_size = ACCELBENCH_STRUCT_SIZE(AccelbenchPluginApi, telemetry),
#endif
#if defined(STUB_WRONG_MAJOR)
        .abi_major = ACCELBENCH_PLUGIN_ABI_MAJOR + 1,
#else
        .abi_major = ACCELBENCH_PLUGIN_ABI_MAJOR,
#endif
#if defined(STUB_NEWER_MINOR)
        .abi_minor = ACCELBENCH_PLUGIN_ABI_MINOR + 7,
#else
        .abi_minor = ACCELBENCH_PLUGIN_ABI_MINOR,
#endif
        .error_destroy = error_destroy,
        .error_message = error_message,
        .error_code = error_code,
        .plugin_info = plugin_info,
        .plugin_score = plugin_score,
        .plugin_initialize = (AccelbenchPluginInitializeFn)nothing,
        .plugin_shutdown = (AccelbenchPluginShutdownFn)nothing,
        .device_count = device_count,
        .device_info = device_info,
        .device_capabilities = device_capabilities,
        .workload_supported = workload_supported,
        .buffer_allocate = buffer_allocate,
        .buffer_free = buffer_free,
        .buffer_to_device = to_device,
        .buffer_to_host = to_host,
        .run = run,
        .synchronize = (AccelbenchSynchronizeFn)nothing,
        .last_run_elapsed = last_run_elapsed,
        .telemetry = telemetry,
    },
    .future_entry_a = future_entry,
    .future_entry_b = future_entry,
};

#if defined(STUB_NO_ENTRY)
/* The table exists but under another name: the loader finds no entry symbol. */
ACCELBENCH_PLUGIN_EXPORT const AccelbenchPluginApi* accelbench_plugin_get_api_renamed(void) { return &api.v1_0; }
#else
ACCELBENCH_PLUGIN_EXPORT const AccelbenchPluginApi* accelbench_plugin_get_api(void) { return &api.v1_0; }
#endif
