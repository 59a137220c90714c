#include <latent/core/denormals.hpp>

#include <cfenv>
#include <limits>

#include <Eigen/Core>
#include <catch2/catch.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

// FlushDenormals on this thread: subnormal results become zero and subnormal operands count as
// zero while it lives, and IEEE arithmetic comes back after.

namespace {

// volatile: the compiler must not fold the arithmetic at compile time, under the default mode.
float product(float a, float b) {
  volatile float x = a, y = b;
  return x * y;
}

}  // namespace

TEST_CASE("FlushDenormals flushes subnormal floats while it lives, then restores IEEE",
          "[core][denormals]") {
  if (!latent::FlushDenormals::supported()) {
    WARN("this processor's floating-point mode cannot be set: FlushDenormals does nothing");
    return;
  }
  const float tiny = std::numeric_limits<float>::min();  // smallest normal, 1.18e-38
  const float subnormal = tiny / 4;
  REQUIRE(product(tiny, 0.25f) == subnormal);  // IEEE: a subnormal result
  REQUIRE(product(subnormal, 2.0f) > 0.0f);    // IEEE: a subnormal operand counts
  {
    latent::FlushDenormals flush;
    CHECK(product(tiny, 0.25f) == 0.0f);      // flush to zero
    CHECK(product(subnormal, 2.0f) == 0.0f);  // denormals are zero
    CHECK(product(tiny, 2.0f) == 2 * tiny);   // normal numbers are untouched
    {
      latent::FlushDenormals nested;
      CHECK(product(tiny, 0.25f) == 0.0f);
    }
    CHECK(product(tiny, 0.25f) == 0.0f);  // the inner guard put back the outer one's mode
  }
  CHECK(product(tiny, 0.25f) == subnormal);
  CHECK(product(subnormal, 2.0f) == subnormal * 2);
}

TEST_CASE("FlushDenormals leaves sticky exception flags and the rounding mode alone",
          "[core][denormals]") {
  std::feclearexcept(FE_ALL_EXCEPT);
  REQUIRE(std::fesetround(FE_UPWARD) == 0);
  {
    latent::FlushDenormals flush;
    std::feraiseexcept(FE_INVALID);
  }
  CHECK(std::fetestexcept(FE_INVALID) != 0);
  CHECK(std::fegetround() == FE_UPWARD);
  std::fesetround(FE_TONEAREST);
  std::feclearexcept(FE_ALL_EXCEPT);
}

#if defined(_OPENMP)
TEST_CASE("FlushDenormals reaches the OpenMP threads Eigen's products use", "[core][denormals]") {
  if (!latent::FlushDenormals::supported()) return;
  const int saved = Eigen::nbThreads();
  Eigen::setNbThreads(2);
  // Every thread of a 2-thread team (the team Eigen's products start) computes tiny / 4.
  const auto subnormal_results = [] {
    int count = 0;
#pragma omp parallel num_threads(2) reduction(+ : count)
    count += product(std::numeric_limits<float>::min(), 0.25f) != 0.0f;
    return count;
  };
  REQUIRE(subnormal_results() == 2);
  {
    latent::FlushDenormals flush;
    CHECK(subnormal_results() == 0);
  }
  CHECK(subnormal_results() == 2);
  Eigen::setNbThreads(saved);
}
#endif
