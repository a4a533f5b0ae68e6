#ifndef ACCELBENCH_CHWLOC_SHIM_H
#define ACCELBENCH_CHWLOC_SHIM_H
#include <hwloc.h>
#endif
