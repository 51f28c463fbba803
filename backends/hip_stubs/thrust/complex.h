// Declarations only, for compile-only HIP builds where rocThrust is not installed (Debian ships
// hipcc without it). torch's headers name thrust::complex and its functions when compiled by a
// HIP compiler; these declarations let the candidate's translation unit be checked and compiled
// to an object file. Nothing built against them is ever linked or run: a kernel that calls one
// of these functions in device code fails to compile here, with the function's name, where a
// ROCm installation would build it. Searched after every other include path (-idirafter), so a
// real rocThrust wins wherever it exists.
#pragma once

namespace thrust {

template <typename T>
struct complex {
  T re_;
  T im_;
  __host__ __device__ complex(const T& re = T(), const T& im = T()) : re_(re), im_(im) {}
  template <typename U>
  __host__ __device__ explicit complex(const complex<U>& other)
      : re_(static_cast<T>(other.real())), im_(static_cast<T>(other.imag())) {}
  __host__ __device__ T real() const { return re_; }
  __host__ __device__ T imag() const { return im_; }
};

#define KW_THRUST_UNARY(name) \
  template <typename T>       \
  __host__ __device__ complex<T> name(const complex<T>& z);

KW_THRUST_UNARY(exp)
KW_THRUST_UNARY(log)
KW_THRUST_UNARY(log10)
KW_THRUST_UNARY(sqrt)
KW_THRUST_UNARY(sin)
KW_THRUST_UNARY(cos)
KW_THRUST_UNARY(tan)
KW_THRUST_UNARY(asin)
KW_THRUST_UNARY(acos)
KW_THRUST_UNARY(atan)
KW_THRUST_UNARY(sinh)
KW_THRUST_UNARY(cosh)
KW_THRUST_UNARY(tanh)
KW_THRUST_UNARY(asinh)
KW_THRUST_UNARY(acosh)
KW_THRUST_UNARY(atanh)
KW_THRUST_UNARY(proj)
#undef KW_THRUST_UNARY

template <typename T>
__host__ __device__ T abs(const complex<T>& z);
template <typename T>
__host__ __device__ complex<T> polar(const T& magnitude, const T& angle = T());
template <typename T>
__host__ __device__ complex<T> pow(const complex<T>& base, const complex<T>& exponent);
template <typename T>
__host__ __device__ complex<T> pow(const complex<T>& base, const T& exponent);
template <typename T>
__host__ __device__ complex<T> pow(const T& base, const complex<T>& exponent);

}  // namespace thrust
