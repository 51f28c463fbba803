#pragma once
// Declaration-only stand-in used by compile-only builds when the CUDA toolkit here lacks this
// library header; -idirafter puts it after the real include paths, so a real header always wins.
#include <cublas_v2.h>
typedef struct cublasLtContext* cublasLtHandle_t;
