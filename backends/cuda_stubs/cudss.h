#pragma once
// Declaration-only stand-in used by compile-only builds when the CUDA toolkit here lacks this
// library header; -idirafter puts it after the real include paths, so a real header always wins.
typedef struct cudssContext* cudssHandle_t;
typedef enum { CUDSS_STATUS_SUCCESS = 0 } cudssStatus_t;
