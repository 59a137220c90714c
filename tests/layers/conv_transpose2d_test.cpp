#include <latent/layers/conv2d.hpp>
#include <latent/layers/conv_transpose2d.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/layer_gradient.hpp"

// ConvTranspose2d is the adjoint of Conv2d: <conv(x), y> = <x, convT(y)> for the same kernel
// (both hold it in the same layout), which with Conv2d's own test against a direct convolution
// pins its forward pass. Then its gradients, shapes, refusals and allocation.

namespace {

using latent::Conv2d;
using latent::ConvTranspose2d;
using latent::ImageShape;
using latent::Index;
using latent::Kernel;
using latent::testing::uniform_matrix;

struct Case {
  ImageShape input;  // of the transposed convolution
  Index out_channels;
  Index size, stride, padding, output_padding;
};

std::string describe(const Case& c) {
  return latent::to_string(c.input) + " -> " + std::to_string(c.out_channels) + " channels, " +
         Kernel(c.size).stride(c.stride).padding(c.padding).output_padding(c.output_padding)
             .describe();
}

Kernel kernel_of(const Case& c) {
  return Kernel(c.size).stride(c.stride).padding(c.padding).output_padding(c.output_padding);
}

const std::vector<Case> grid = {
    {{1, 3, 3}, 1, 1, 1, 0, 0}, {{2, 3, 3}, 2, 3, 1, 0, 0}, {{2, 3, 4}, 3, 3, 1, 1, 0},
    {{2, 3, 3}, 2, 3, 2, 1, 0}, {{2, 3, 3}, 2, 3, 2, 1, 1}, {{3, 2, 3}, 2, 4, 2, 1, 0},
    {{1, 2, 2}, 2, 2, 2, 0, 0}, {{2, 2, 3}, 1, 3, 3, 1, 2}, {{1, 4, 4}, 2, 5, 1, 2, 0},
};

}  // namespace

TEST_CASE("ConvTranspose2d is the adjoint of Conv2d: <conv(x), y> = <x, convT(y)>",
          "[conv_transpose2d]") {
  for (const Case& c : grid) {
    INFO(describe(c));
    ConvTranspose2d<double> transposed(c.input, c.out_channels, kernel_of(c));
    const ImageShape big = transposed.output_shape();
    Conv2d<double> convolution(big, c.input.channels,
                               Kernel(c.size).stride(c.stride).padding(c.padding));
    REQUIRE(convolution.output_shape() == c.input);
    REQUIRE(convolution.parameter_count() - c.input.channels ==
            transposed.parameter_count() - c.out_channels);
    // One kernel for both, zero biases: both maps are then linear.
    Eigen::VectorXd conv_arena = Eigen::VectorXd::Zero(convolution.parameter_count());
    Eigen::VectorXd transposed_arena = Eigen::VectorXd::Zero(transposed.parameter_count());
    const Index kernel_values = transposed.parameter_count() - c.out_channels;
    conv_arena.head(kernel_values) = uniform_matrix<double>(kernel_values, 1, 61);
    transposed_arena.head(kernel_values) = conv_arena.head(kernel_values);

    const latent::Matrix<double> x = uniform_matrix<double>(big.size(), 3, 62);
    const latent::Matrix<double> y = uniform_matrix<double>(c.input.size(), 3, 63);
    const latent::Matrix<double> conv_x = convolution.forward(conv_arena.data(), x);
    const latent::Matrix<double> transposed_y = transposed.forward(transposed_arena.data(), y);
    const double left = (conv_x.array() * y.array()).sum();
    const double right = (x.array() * transposed_y.array()).sum();
    CHECK(std::abs(left - right) <= 1e-12 * std::max(1.0, std::abs(left)));
    CHECK(std::abs(left) > 1e-3);
  }
}

TEST_CASE("ConvTranspose2d's gradients match central differences over kernels and strides",
          "[conv_transpose2d][gradient]") {
  for (const Case& c : grid) {
    INFO(describe(c));
    ConvTranspose2d<double, latent::Tanh> layer(c.input, c.out_channels, kernel_of(c));
    const auto errors = latent::testing::layer_gradient_errors(layer, 2, 71);
    CHECK(errors.parameters < 1e-6);
    CHECK(errors.input < 1e-6);
  }
}

TEMPLATE_TEST_CASE("ConvTranspose2d's gradients hold for every activation",
                   "[conv_transpose2d][gradient]", latent::Identity, latent::Sigmoid,
                   latent::Softplus) {
  ConvTranspose2d<double, TestType> layer({3, 3, 4}, 2, Kernel(4).stride(2).padding(1));
  const auto errors = latent::testing::layer_gradient_errors(layer, 3, 81);
  CHECK(errors.parameters < 1e-6);
  CHECK(errors.input < 1e-6);
}

TEMPLATE_TEST_CASE("ConvTranspose2d's const path equals its workspace path", "[conv_transpose2d]",
                   float, double) {
  using S = TestType;
  ConvTranspose2d<S, latent::Sigmoid> layer({4, 7, 7}, 3, Kernel(4).stride(2).padding(1));
  const latent::Matrix<S> arena = uniform_matrix<S>(layer.parameter_count(), 1, 85);
  const latent::Matrix<S> X = uniform_matrix<S>(layer.input_size(), 5, 86);
  const latent::Matrix<S> A = layer.forward(arena.data(), X);
  latent::Matrix<S> inferred;
  layer.infer(arena.data(), X, inferred);
  CHECK((inferred - A).cwiseAbs().maxCoeff() < (std::is_same_v<S, float> ? 1e-6 : 1e-14));
}

TEST_CASE("ConvTranspose2d's output shape inverts the convolution's", "[conv_transpose2d]") {
  using Layer = ConvTranspose2d<float, latent::ReLU>;
  // (7 - 1) 2 - 2 + 4 = 14: the decoder's way back from 7x7 to 14x14 to 28x28.
  const Layer up({32, 7, 7}, 16, Kernel(4).stride(2).padding(1));
  CHECK(up.output_shape() == ImageShape{16, 14, 14});
  CHECK(up.parameter_count() == 32 * 16 * 16 + 16);
  CHECK(up.name() ==
        "ConvTranspose2d<ReLU>(32x7x7 -> 16x14x14, kernel 4, stride 2, padding 1)");
  // Kernel 3, stride 2, padding 1 maps 14 and 13 to 7: output padding picks 14.
  CHECK(Layer({8, 7, 7}, 4, Kernel(3).stride(2).padding(1)).output_shape() == ImageShape{4, 13, 13});
  CHECK(Layer({8, 7, 7}, 4, Kernel(3).stride(2).padding(1).output_padding(1)).output_shape() ==
        ImageShape{4, 14, 14});
}

TEST_CASE("ConvTranspose2d refuses malformed options, naming itself", "[conv_transpose2d]") {
  using Catch::Matchers::Contains;
  using Layer = ConvTranspose2d<float>;
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 2, Kernel(3).stride(2).output_padding(2)),
                    Contains("latent::ConvTranspose2d") && Contains("below the stride"));
  CHECK_THROWS_WITH(Layer({1, 1, 1}, 2, Kernel(1).padding(1)), Contains("leaves no output"));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 0, Kernel(3)), Contains("out_channels must be positive"));
  CHECK_THROWS_WITH(Layer({1, 4, 0}, 1, Kernel(3)), Contains("1x4x0"));
  CHECK_THROWS_WITH(Layer({1, 4, 4}, 1, Kernel(0)), Contains("size and stride must be positive"));
}

TEMPLATE_TEST_CASE("A ConvTranspose2d step allocates nothing after warm-up, at any batch",
                   "[conv_transpose2d][allocation]", float, double) {
  using S = TestType;
  ConvTranspose2d<S, latent::Sigmoid> layer({16, 14, 14}, 1, Kernel(4).stride(2).padding(1));
  const latent::Matrix<S> arena = uniform_matrix<S>(layer.parameter_count(), 1, 91, -0.2, 0.2);
  const latent::Matrix<S> X = uniform_matrix<S>(layer.input_size(), 32, 92, 0, 1);
  const latent::Matrix<S> dA = uniform_matrix<S>(layer.output_size(), 32, 93);
  latent::Matrix<S> gradients = latent::Matrix<S>::Zero(layer.parameter_count(), 1);
  layer.forward(arena.data(), X);
  layer.backward(arena.data(), gradients.data(), X, dA, true);

  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    layer.forward(arena.data(), X);
    layer.backward(arena.data(), gradients.data(), X, dA, true);
    layer.forward(arena.data(), X.leftCols(5));
    layer.backward(arena.data(), gradients.data(), X.leftCols(5), dA.leftCols(5), true);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
  CHECK(gradients.allFinite());
}
