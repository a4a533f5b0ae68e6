#ifndef ACCELBENCH_CPLUGIN_SHIM_H
#define ACCELBENCH_CPLUGIN_SHIM_H
/* The plugin ABI for Swift (AccelBenchPlugins); the header itself lives with the C side. */
#include "../../kernels/plugin/include/accelbench_plugin.h"
#endif
