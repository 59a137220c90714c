#include <latent/layers/conv2d.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/max_pool2d.hpp>
#include <latent/layers/reshape.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/layers/upsample2d.hpp>

#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/layer_gradient.hpp"

// The parameter-free image layers (MaxPool2d, Upsample2d, Flatten, Reshape) on examples worked
// by hand and against central differences, and Sequential's check of image shapes.

namespace {

using latent::ImageShape;
using latent::Index;
using latent::Kernel;
using latent::testing::uniform_matrix;
using Catch::Matchers::Contains;

template <class S>
using Matrix = latent::Matrix<S>;

/// 0, 1, 2, ... down each column.
Matrix<double> counting(Index rows, Index cols) {
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<double>(i);
  return m;
}

}  // namespace

TEST_CASE("MaxPool2d takes each window's maximum and sends its gradient there alone",
          "[max_pool2d]") {
  latent::MaxPool2d<double> pool({1, 4, 4}, 2);
  REQUIRE(pool.output_shape() == ImageShape{1, 2, 2});
  REQUIRE(pool.parameter_count() == 0);
  Matrix<double> X = counting(16, 1);  // row y, column x holds 4 y + x
  X(0, 0) = 9;                         // the top-left window's maximum moves to its corner
  const Matrix<double> A = pool.forward(nullptr, X);
  CHECK(A(0, 0) == 9);
  CHECK(A(1, 0) == 7);
  CHECK(A(2, 0) == 13);
  CHECK(A(3, 0) == 15);
  const Matrix<double> dA = (Matrix<double>(4, 1) << 1, 2, 3, 4).finished();
  const Matrix<double> dX = pool.backward(nullptr, nullptr, X, dA, true);
  Matrix<double> expected = Matrix<double>::Zero(16, 1);
  expected(0) = 1;   // (0, 0), where the 9 is
  expected(7) = 2;   // (1, 3)
  expected(13) = 3;  // (3, 1)
  expected(15) = 4;  // (3, 3)
  CHECK(dX == expected);
  Matrix<double> inferred;
  pool.infer(nullptr, X, inferred);
  CHECK(inferred == A);
}

TEST_CASE("MaxPool2d with padding reads only the image; on a tie the first value wins",
          "[max_pool2d]") {
  // 3 x 3 windows, stride 2, padding 1 on 1x3x3: four windows, each clipped to the image.
  latent::MaxPool2d<double> pool({1, 3, 3}, Kernel(3).stride(2).padding(1));
  REQUIRE(pool.output_shape() == ImageShape{1, 2, 2});
  const Matrix<double> X = -counting(9, 1);  // all values <= 0: padding zeros would win
  const Matrix<double> A = pool.forward(nullptr, X);
  // Window (0, 0) covers image rows 0-1 and columns 0-1, (0, 1) rows 0-1 and columns 1-2, ...
  CHECK(A(0, 0) == 0);   // max of 0, -1, -3, -4
  CHECK(A(1, 0) == -1);  // max of -1, -2, -4, -5
  CHECK(A(2, 0) == -3);  // max of -3, -4, -6, -7
  CHECK(A(3, 0) == -4);  // max of -4, -5, -7, -8
  const Matrix<double> ties = Matrix<double>::Constant(9, 1, 0.5);
  pool.forward(nullptr, ties);
  const Matrix<double> dX = pool.backward(nullptr, nullptr, ties, Matrix<double>::Ones(4, 1), true);
  // Each window's first value: image (0, 0), (0, 1), (1, 0), (1, 1).
  CHECK(dX == (Matrix<double>(9, 1) << 1, 1, 0, 1, 1, 0, 0, 0, 0).finished());
}

TEST_CASE("MaxPool2d's input gradient matches central differences", "[max_pool2d][gradient]") {
  for (const Kernel& kernel : {Kernel(2).stride(2), Kernel(3).stride(2).padding(1), Kernel(2)}) {
    INFO(kernel.describe());
    latent::MaxPool2d<double> pool({2, 5, 6}, kernel);
    // Random values are at least 1e-3 apart here, so a difference step of 1e-5 moves no maximum.
    const auto errors = latent::testing::layer_gradient_errors(pool, 3, 101);
    CHECK(errors.input < 1e-6);
  }
}

TEST_CASE("MaxPool2d refuses padding wider than half its window", "[max_pool2d]") {
  CHECK_THROWS_WITH(latent::MaxPool2d<float>({1, 4, 4}, Kernel(2).padding(2)),
                    Contains("latent::MaxPool2d") && Contains("at most half"));
  CHECK_THROWS_WITH(latent::MaxPool2d<float>({1, 4, 4}, 5), Contains("does not fit the 1x4x4"));
}

TEST_CASE("Upsample2d copies each value into a block and sums the block's gradients",
          "[upsample2d]") {
  latent::Upsample2d<double> up({2, 1, 2}, 2);
  REQUIRE(up.output_shape() == ImageShape{2, 2, 4});
  const Matrix<double> X = (Matrix<double>(4, 1) << 1, 2, 3, 4).finished();
  const Matrix<double> A = up.forward(nullptr, X);
  CHECK(A == (Matrix<double>(16, 1) << 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4).finished());
  const Matrix<double> dA = counting(16, 1);
  const Matrix<double> dX = up.backward(nullptr, nullptr, X, dA, true);
  CHECK(dX == (Matrix<double>(4, 1) << 0 + 1 + 4 + 5, 2 + 3 + 6 + 7, 8 + 9 + 12 + 13,
               10 + 11 + 14 + 15).finished());
  const auto errors = latent::testing::layer_gradient_errors(up, 2, 111);
  CHECK(errors.input < 1e-6);
  latent::Upsample2d<double> up3({1, 2, 3}, 3);
  CHECK(latent::testing::layer_gradient_errors(up3, 2, 112).input < 1e-6);
  CHECK_THROWS_WITH(latent::Upsample2d<float>({1, 2, 2}, 0), Contains("factor must be positive"));
}

TEST_CASE("Flatten and Reshape hand the values on and change only what the rows mean",
          "[reshape]") {
  latent::Flatten<double> flatten({2, 3, 3});
  latent::Reshape<double> reshape({2, 3, 3});
  CHECK(flatten.input_shape() == ImageShape{2, 3, 3});
  CHECK(flatten.output_size() == 18);
  CHECK(reshape.input_size() == 18);
  CHECK(reshape.output_shape() == ImageShape{2, 3, 3});
  CHECK(flatten.name() == "Flatten(2x3x3)");
  CHECK(reshape.name() == "Reshape(2x3x3)");
  const Matrix<double> X = uniform_matrix<double>(18, 4, 121);
  CHECK(Matrix<double>(flatten.forward(nullptr, X)) == X);
  CHECK(Matrix<double>(flatten.output()) == X);
  CHECK(Matrix<double>(reshape.backward(nullptr, nullptr, X, X, true)) == X);
  CHECK(reshape.backward(nullptr, nullptr, X, X, false).cols() == 0);
  CHECK_THROWS_WITH(latent::Flatten<float>({1, 0, 3}), Contains("latent::Flatten"));
}

TEST_CASE("Sequential checks image layers by shape and names both layers", "[sequential]") {
  using latent::Conv2d;
  using latent::Sequential;
  const auto build = [](ImageShape pooled) {
    return Sequential{Conv2d<float, latent::ReLU>({1, 8, 8}, 4, Kernel(3).padding(1)),
                      latent::MaxPool2d<float>(pooled, 2), latent::Flatten<float>({4, 4, 4}),
                      latent::Dense<float>(64, 3)};
  };
  CHECK_NOTHROW(build({4, 8, 8}));
  // The sizes agree (256 values each side), the shapes do not.
  CHECK_THROWS_WITH(build({1, 16, 16}),
                    Contains("layer 0 Conv2d<ReLU>(1x8x8 -> 4x8x8") &&
                        Contains("gives 4x8x8 images but layer 1 MaxPool2d(1x16x16") &&
                        Contains("takes 1x16x16"));
  const auto flat = [](Index size) {
    return Sequential{latent::Dense<float>(10, size), latent::Reshape<float>({2, 3, 3})};
  };
  CHECK_NOTHROW(flat(18));
  CHECK_THROWS_WITH(flat(16), Contains("Dense<Identity>(10 -> 16) gives 16 outputs") &&
                                  Contains("Reshape(2x3x3) takes 18 inputs"));
}

