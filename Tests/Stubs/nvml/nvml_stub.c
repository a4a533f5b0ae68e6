// A stand-in for libnvidia-ml.so.1, built as the dynamic library product "nvidia-ml-stub"
// (libnvidia-ml-stub.so). Tests copy it into a temporary directory as libnvidia-ml.so.1 and hand that
// path to NVMLSource.detect, which loads it through the same dlopen/dlsym path as the real library.
//
// The readings come from the script file "nvml_stub.conf" in the directory the library was loaded
// from (found with dladdr), never from the environment: tests running in parallel, each with its own
// copy of the library, share no script and no state. One directive a line, '#' starts a comment:
//
//   init CODE                     nvmlInit_v2 returns CODE (default 0, NVML_SUCCESS)
//   device NAME...                declares the next device (index 0, 1, ...) with this name
//   uuid INDEX UUID               the device's UUID (default GPU-00000000-stub-INDEX)
//   handle INDEX CODE             nvmlDeviceGetHandleByIndex_v2 returns CODE for this device
//   INDEX ENERGY_MJ POWER_MW SM_MHZ MEM_MHZ TEMP_C THROTTLE_MASK
//                                 one sample line of a device
//
// A sample field is a number (decimal, or hex with 0x) or "!CODE": the call returns that NVML error
// code (3 NOT_SUPPORTED, 15 GPU_IS_LOST, ...). Every function keeps its own cursor per device and
// consumes one sample line per call, so the n-th call of nvmlDeviceGetTotalEnergyConsumption on a
// device sees that device's n-th line, whatever else was called; past the last line the last line
// repeats. Calls other than nvmlInit_v2 before init (or after the matching shutdown) return
// NVML_ERROR_UNINITIALIZED, like the real library.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvml_stub.h"

enum { STUB_MAX_DEVICES = 16, STUB_MAX_SAMPLES = 256, STUB_FIELDS = 6 };
enum { FIELD_ENERGY, FIELD_POWER, FIELD_SM, FIELD_MEM, FIELD_TEMP, FIELD_THROTTLE };
enum { NVML_SUCCESS = 0, NVML_ERROR_UNINITIALIZED = 1, NVML_ERROR_INVALID_ARGUMENT = 2,
       NVML_ERROR_NOT_SUPPORTED = 3, NVML_ERROR_INSUFFICIENT_SIZE = 7, NVML_ERROR_UNKNOWN = 999 };

typedef struct {
    unsigned long long value;
    int code;  // NVML return code of the call that reads this field
} stub_field;

struct nvmlDevice_st {
    char name[96];
    char uuid[96];
    int handle_code;
    int sample_count;
    stub_field samples[STUB_MAX_SAMPLES][STUB_FIELDS];
    int cursor[STUB_FIELDS];
};

static struct nvmlDevice_st stub_devices[STUB_MAX_DEVICES];
static int stub_device_count;
static int stub_init_code;
static int stub_loaded;
static int stub_init_count;

static char *stub_trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    return s;
}

static stub_field stub_parse_field(const char *token) {
    stub_field field = {0, NVML_SUCCESS};
    if (token == NULL) {
        field.code = NVML_ERROR_NOT_SUPPORTED;
    } else if (token[0] == '!') {
        field.code = atoi(token + 1);
    } else {
        field.value = strtoull(token, NULL, 0);
    }
    return field;
}

static void stub_script_path(char *out, size_t size) {
    Dl_info info;
    out[0] = 0;
    if (dladdr((void *)&nvmlInit_v2, &info) == 0 || info.dli_fname == NULL) return;
    snprintf(out, size, "%s", info.dli_fname);
    char *slash = strrchr(out, '/');
    if (slash == NULL) {
        snprintf(out, size, "nvml_stub.conf");
    } else {
        snprintf(slash + 1, size - (size_t)(slash + 1 - out), "nvml_stub.conf");
    }
}

static void stub_load(void) {
    if (stub_loaded) return;
    stub_loaded = 1;
    char path[4096];
    stub_script_path(path, sizeof path);
    FILE *file = fopen(path, "r");
    if (file == NULL) return;  // no script: no devices
    char line[1024];
    while (fgets(line, sizeof line, file) != NULL) {
        char *hash = strchr(line, '#');
        if (hash != NULL) *hash = 0;
        char *text = stub_trim(line);
        if (text[0] == 0) continue;
        if (strncmp(text, "init ", 5) == 0) {
            stub_init_code = atoi(text + 5);
        } else if (strncmp(text, "device ", 7) == 0) {
            if (stub_device_count >= STUB_MAX_DEVICES) continue;
            struct nvmlDevice_st *device = &stub_devices[stub_device_count];
            snprintf(device->name, sizeof device->name, "%s", stub_trim(text + 7));
            snprintf(device->uuid, sizeof device->uuid, "GPU-00000000-stub-%d", stub_device_count);
            stub_device_count++;
        } else if (strncmp(text, "uuid ", 5) == 0) {
            char *rest = NULL;
            long index = strtol(text + 5, &rest, 10);
            if (index < 0 || index >= stub_device_count) continue;
            snprintf(stub_devices[index].uuid, sizeof stub_devices[index].uuid, "%s", stub_trim(rest));
        } else if (strncmp(text, "handle ", 7) == 0) {
            char *rest = NULL;
            long index = strtol(text + 7, &rest, 10);
            if (index < 0 || index >= stub_device_count) continue;
            stub_devices[index].handle_code = atoi(rest);
        } else {
            char *save = NULL;
            char *token = strtok_r(text, " \t", &save);
            long index = strtol(token, NULL, 10);
            if (index < 0 || index >= stub_device_count) continue;
            struct nvmlDevice_st *device = &stub_devices[index];
            if (device->sample_count >= STUB_MAX_SAMPLES) continue;
            for (int f = 0; f < STUB_FIELDS; f++) {
                device->samples[device->sample_count][f] = stub_parse_field(strtok_r(NULL, " \t", &save));
            }
            device->sample_count++;
        }
    }
    fclose(file);
}

static int stub_device_ok(nvmlDevice_t device) {
    return device != NULL && device >= stub_devices && device < stub_devices + stub_device_count;
}

// One call's reading of `field`: advances that field's cursor.
static nvmlReturn_t stub_next(nvmlDevice_t device, int field, unsigned long long *value) {
    if (stub_init_count == 0) return NVML_ERROR_UNINITIALIZED;
    if (!stub_device_ok(device) || value == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (device->sample_count == 0) return NVML_ERROR_NOT_SUPPORTED;
    int row = device->cursor[field];
    if (row >= device->sample_count) {
        row = device->sample_count - 1;
    } else {
        device->cursor[field] = row + 1;
    }
    stub_field reading = device->samples[row][field];
    if (reading.code != NVML_SUCCESS) return reading.code;
    *value = reading.value;
    return NVML_SUCCESS;
}

static nvmlReturn_t stub_copy(const char *text, char *out, unsigned int length) {
    if (out == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    if (strlen(text) + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
    memcpy(out, text, strlen(text) + 1);
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
    stub_load();
    if (stub_init_code != NVML_SUCCESS) return stub_init_code;
    stub_init_count++;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
    if (stub_init_count == 0) return NVML_ERROR_UNINITIALIZED;
    stub_init_count--;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount) {
    if (stub_init_count == 0) return NVML_ERROR_UNINITIALIZED;
    if (deviceCount == NULL) return NVML_ERROR_INVALID_ARGUMENT;
    *deviceCount = (unsigned int)stub_device_count;
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    if (stub_init_count == 0) return NVML_ERROR_UNINITIALIZED;
    if (device == NULL || index >= (unsigned int)stub_device_count) return NVML_ERROR_INVALID_ARGUMENT;
    if (stub_devices[index].handle_code != NVML_SUCCESS) return stub_devices[index].handle_code;
    *device = &stub_devices[index];
    return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    if (stub_init_count == 0) return NVML_ERROR_UNINITIALIZED;
    if (!stub_device_ok(device)) return NVML_ERROR_INVALID_ARGUMENT;
    return stub_copy(device->name, name, length);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    if (stub_init_count == 0) return NVML_ERROR_UNINITIALIZED;
    if (!stub_device_ok(device)) return NVML_ERROR_INVALID_ARGUMENT;
    return stub_copy(device->uuid, uuid, length);
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
    return stub_next(device, FIELD_ENERGY, energy);
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
    unsigned long long value = 0;
    nvmlReturn_t code = stub_next(device, FIELD_POWER, power == NULL ? NULL : &value);
    if (code == NVML_SUCCESS) *power = (unsigned int)value;
    return code;
}

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int *clock) {
    int field;
    if (type == 1) {  // NVML_CLOCK_SM
        field = FIELD_SM;
    } else if (type == 2) {  // NVML_CLOCK_MEM
        field = FIELD_MEM;
    } else {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    unsigned long long value = 0;
    nvmlReturn_t code = stub_next(device, field, clock == NULL ? NULL : &value);
    if (code == NVML_SUCCESS) *clock = (unsigned int)value;
    return code;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensorType, unsigned int *temp) {
    if (sensorType != 0) return NVML_ERROR_INVALID_ARGUMENT;  // only NVML_TEMPERATURE_GPU exists
    unsigned long long value = 0;
    nvmlReturn_t code = stub_next(device, FIELD_TEMP, temp == NULL ? NULL : &value);
    if (code == NVML_SUCCESS) *temp = (unsigned int)value;
    return code;
}

nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons) {
    return stub_next(device, FIELD_THROTTLE, reasons);
}
