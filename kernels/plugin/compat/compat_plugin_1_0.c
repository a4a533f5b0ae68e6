/* ABI compatibility plugin, FROZEN at ABI 1.0: built against accelbench_plugin_1_0.h (the header as
 * released at 1.0), never edited afterwards. The test AccelBenchPluginsTests/compat builds it and loads
 * it with the current loader, which must accept it (same major) and run its fp32 matmul correctly
 * without calling anything past the 1.0 table. When 1.1 is released, add accelbench_plugin_1_1.h and
 * compat_plugin_1_1.c beside these, and keep both tests. */
#include "accelbench_plugin_1_0.h"

#include <stdlib.h>
#include <string.h>

struct AccelbenchPluginError { AccelbenchErrorCode code; const char* message; };
struct AccelbenchBuffer { size_t bytes; unsigned char* data; };

static AccelbenchPluginError* fail(AccelbenchErrorCode code, const char* message) {
    AccelbenchPluginError* e = malloc(sizeof *e);
    e->code = code;
    e->message = message;
    return e;
}

static void error_destroy(AccelbenchErrorDestroyArgs* a) { free(a->error); }
static void error_message(AccelbenchErrorMessageArgs* a) { a->message = a->error->message; a->message_size = strlen(a->message); }
static void error_code(AccelbenchErrorCodeArgs* a) { a->code = a->error->code; }

static AccelbenchPluginError* plugin_info(AccelbenchPluginInfoArgs* a) {
    a->name = "compat-1-0";
    a->version = "1.0";
    a->description = "built against the frozen ABI 1.0 header";
    return NULL;
}
static AccelbenchPluginError* plugin_score(AccelbenchPluginScoreArgs* a) { a->score = 1; a->reason = "always"; return NULL; }
static AccelbenchPluginError* plugin_initialize(AccelbenchPluginInitializeArgs* a) { (void)a; return NULL; }
static AccelbenchPluginError* plugin_shutdown(AccelbenchPluginShutdownArgs* a) { (void)a; return NULL; }
static AccelbenchPluginError* device_count(AccelbenchDeviceCountArgs* a) { a->count = 1; return NULL; }

static AccelbenchPluginError* device_info(AccelbenchDeviceInfoArgs* a) {
    if (a->device != 0) return fail(ACCELBENCH_ERROR_INVALID_ARGUMENT, "no such device");
    if (a->info->struct_size >= ACCELBENCH_STRUCT_SIZE(AccelbenchDeviceInfo, architecture)) {
        a->info->name = "compat device";
        a->info->vendor = "accelbench tests";
        a->info->architecture = "abi-1.0";
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
    a->supported = a->workload->kind == ACCELBENCH_WORKLOAD_MATMUL && a->workload->dtype == ACCELBENCH_DTYPE_FP32;
    a->reason = a->supported ? NULL : "fp32 matmul only";
    return NULL;
}
static AccelbenchPluginError* buffer_allocate(AccelbenchBufferAllocateArgs* a) {
    AccelbenchBuffer* b = malloc(sizeof *b);
    if (!b || !(b->data = malloc(a->bytes))) { free(b); return fail(ACCELBENCH_ERROR_OUT_OF_MEMORY, "malloc"); }
    b->bytes = a->bytes;
    a->buffer = b;
    return NULL;
}
static AccelbenchPluginError* buffer_free(AccelbenchBufferFreeArgs* a) { free(a->buffer->data); free(a->buffer); return NULL; }
static AccelbenchPluginError* to_device(AccelbenchBufferCopyArgs* a) { memcpy(a->buffer->data + a->offset, a->source, a->bytes); return NULL; }
static AccelbenchPluginError* to_host(AccelbenchBufferCopyArgs* a) { memcpy(a->destination, a->buffer->data + a->offset, a->bytes); return NULL; }

static AccelbenchPluginError* run(AccelbenchRunArgs* args) {
    const AccelbenchWorkload* w = args->workload;
    if (w->kind != ACCELBENCH_WORKLOAD_MATMUL || w->dtype != ACCELBENCH_DTYPE_FP32)
        return fail(ACCELBENCH_ERROR_UNSUPPORTED, "fp32 matmul only");
    const float* a = (const float*)args->inputs[0]->data;
    const float* b = (const float*)args->inputs[1]->data;
    float* c = (float*)args->outputs[0]->data;
    for (uint64_t i = 0; i < w->m; i++)
        for (uint64_t j = 0; j < w->n; j++) {
            float s = 0.0f;
            for (uint64_t p = 0; p < w->k; p++) s += a[i * w->k + p] * b[p * w->n + j];
            c[i * w->n + j] = s;
        }
    return NULL;
}
static AccelbenchPluginError* synchronize(AccelbenchSynchronizeArgs* a) { (void)a; return NULL; }
static AccelbenchPluginError* last_run_elapsed(AccelbenchLastRunElapsedArgs* a) {
    a->elapsed_ns = 0;
    a->source = ACCELBENCH_TIMING_HOST_CLOCK;
    return NULL;
}
static AccelbenchPluginError* telemetry(AccelbenchTelemetryArgs* a) { (void)a; return fail(ACCELBENCH_ERROR_NOT_AVAILABLE, "none"); }

static const AccelbenchPluginApi api = {
    ACCELBENCH_STRUCT_SIZE(AccelbenchPluginApi, telemetry), 1, 0, NULL,
    error_destroy, error_message, error_code,
    plugin_info, plugin_score, plugin_initialize, plugin_shutdown,
    device_count, device_info, device_capabilities, workload_supported,
    buffer_allocate, buffer_free, to_device, to_host,
    run, synchronize, last_run_elapsed, telemetry,
};

ACCELBENCH_PLUGIN_EXPORT const AccelbenchPluginApi* accelbench_plugin_get_api(void) { return &api; }
