#include <latent/core/denormals.hpp>

#include <limits>

#include <catch2/catch.hpp>

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
