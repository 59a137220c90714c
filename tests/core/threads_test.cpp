#include <latent/core/threads.hpp>

#include <stdexcept>

#include <Eigen/Core>
#include <catch2/catch.hpp>

// One thread setting for Eigen's products and OpenBLAS's (when latent links it).

TEST_CASE("set_threads sets the count threads() reports, for Eigen and OpenBLAS alike",
          "[core][threads]") {
  const int saved = latent::threads();
  const int n = GENERATE(1, 2, 3);
  latent::set_threads(n);
#if LATENT_HAVE_OPENBLAS
  CHECK(latent::threads() == n);
  CHECK(openblas_get_num_threads() == n);
#endif
#if defined(EIGEN_HAS_OPENMP)
  CHECK(latent::threads() == n);
  CHECK(Eigen::nbThreads() == n);
#endif
#if !LATENT_HAVE_OPENBLAS && !defined(EIGEN_HAS_OPENMP)
  CHECK(latent::threads() == 1);  // nothing runs threaded
#endif
  latent::set_threads(saved);
}

TEST_CASE("set_threads refuses a count below one", "[core][threads]") {
  const int saved = latent::threads();
  CHECK_THROWS_AS(latent::set_threads(0), std::invalid_argument);
  CHECK_THROWS_AS(latent::set_threads(-2), std::invalid_argument);
  CHECK(latent::threads() == saved);
}
