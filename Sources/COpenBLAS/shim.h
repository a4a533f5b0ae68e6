#ifndef ACCELBENCH_COPENBLAS_SHIM_H
#define ACCELBENCH_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
