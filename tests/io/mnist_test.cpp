#if LATENT_HAVE_ZLIB

#include <latent/io/mnist.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

// MNIST itself, when MNIST_DIR names it (CI does). Unset, the test says it was skipped; set
// but missing or corrupt, it fails with the way to get the data.

TEST_CASE("load_mnist reads the four original files: shapes, range and known labels",
          "[io][mnist]") {
  const char* dir = std::getenv("MNIST_DIR");
  if (!dir || !*dir) {
    WARN("MNIST_DIR is not set: MNIST test skipped (scripts/get-mnist.sh fetches the data)");
    return;
  }
  INFO("MNIST_DIR=" << dir << "; fetch MNIST with scripts/get-mnist.sh if it is missing");
  latent::io::Mnist<float> mnist;
  REQUIRE_NOTHROW(mnist = latent::io::load_mnist<float>(dir));
  CHECK(mnist.train.images.rows() == 784);
  CHECK(mnist.train.images.cols() == 60000);
  CHECK(mnist.test.images.cols() == 10000);
  CHECK(mnist.train.images.minCoeff() == 0.0f);
  CHECK(mnist.train.images.maxCoeff() == 1.0f);
  // Facts of the published files: the first labels, and how many ones each set holds.
  CHECK(mnist.train.labels.head(3) == (latent::Labels(3) << 5, 0, 4).finished());
  CHECK(mnist.test.labels.head(3) == (latent::Labels(3) << 7, 2, 1).finished());
  CHECK((mnist.train.labels.array() == 1).count() == 6742);
  CHECK((mnist.test.labels.array() == 1).count() == 1135);
  CHECK(mnist.test.images.mean() == Approx(0.13251).epsilon(1e-3));
}

TEST_CASE("load_mnist names the missing file and how to get MNIST", "[io][mnist]") {
  latent::testing::TempDir dir;
  CHECK_THROWS_WITH(latent::io::load_mnist<float>(dir.path()),
                    Catch::Contains("train-images-idx3-ubyte.gz' not found") &&
                        Catch::Contains("scripts/get-mnist.sh"));
}

TEST_CASE("mnist_directory is MNIST_DIR, else data/mnist", "[io][mnist]") {
  const char* saved = std::getenv("MNIST_DIR");
  const std::string previous = saved ? saved : "";
  ::setenv("MNIST_DIR", "/somewhere/mnist", 1);
  CHECK(latent::io::mnist_directory() == std::filesystem::path("/somewhere/mnist"));
  ::unsetenv("MNIST_DIR");
  CHECK(latent::io::mnist_directory() == std::filesystem::path("data") / "mnist");
  if (saved) ::setenv("MNIST_DIR", previous.c_str(), 1);
}

#endif  // LATENT_HAVE_ZLIB
