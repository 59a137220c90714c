#ifndef LATENT_LAYERS_CONV2D_HPP
#define LATENT_LAYERS_CONV2D_HPP

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "latent/activations.hpp"
#include "latent/core/init.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/activation_pass.hpp"
#include "latent/detail/gemm.hpp"
#include "latent/detail/patches.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/layers/image.hpp"

namespace latent {

/// A 2-D convolution over a batch of images (layers/image.hpp has the layout), with a bias per
/// output channel and an activation: A = f(K * X + b). Like PyTorch's Conv2d, it is a
/// cross-correlation: output (o, y, x) = b_o + sum over c, u, v of
/// K(o, c, u, v) X(c, y stride + u - padding, x stride + v - padding), zeros outside the image.
///
/// Forward and backward are GEMMs over the whole batch through an im2col lowering
/// (detail/patches.hpp) into workspaces sized once per batch size; the layer otherwise follows
/// the contract written on Dense (layers/dense.hpp). It also has `input_shape()` and
/// `output_shape()`, which Sequential checks between image layers.
///
/// Parameter layout at offset: K, out_channels x in_channels x size x size in row-major order
/// (PyTorch's weight layout; here a column-major patch_size x out_channels matrix), then b.
/// Initialisers see fan_in = in_channels size^2 (the products each output sums) and fan_out =
/// out_channels size^2 / stride^2 (the outputs each input reaches, on average).
///
/// Right: `Conv2d<float, ReLU>({1, 28, 28}, 16, Kernel(3).stride(2).padding(1))`: 16x14x14 out.
/// Wrong: `Conv2d<float, ReLU>({1, 28, 28}, 16, Kernel(31))` throws: the kernel does not fit.
template <class S, class Act = Identity>
class Conv2d {
  static_assert(std::is_floating_point_v<S>, "latent::Conv2d: S must be float or double");
  static_assert(detail::is_activation<Act, S>::value,
                "latent::Conv2d: Act must have value(z), derivative(z, a), name and "
                "default_init; see activations.hpp");

 public:
  using Scalar = S;
  using Activation = Act;

  Conv2d(ImageShape input, Index out_channels, Kernel kernel, Act activation = Act{},
         Init init = Act::default_init)
      : windows_(detail::windows(input, kernel, "latent::Conv2d")),
        out_channels_(out_channels),
        kernel_(kernel),
        init_(init),
        pass_(activation) {
    if (out_channels <= 0)
      throw std::invalid_argument("latent::Conv2d: out_channels must be positive, got " +
                                  std::to_string(out_channels));
    if (kernel.output_padding() != 0)
      throw std::invalid_argument("latent::Conv2d: output padding is for ConvTranspose2d");
  }

  ImageShape input_shape() const noexcept { return windows_.image; }
  ImageShape output_shape() const noexcept {
    return {out_channels_, windows_.rows, windows_.cols};
  }
  Index input_size() const noexcept { return input_shape().size(); }
  Index output_size() const noexcept { return output_shape().size(); }
  Index parameter_count() const noexcept { return kernel_values() + out_channels_; }
  Index offset() const noexcept { return offset_; }
  const Kernel& kernel() const noexcept { return kernel_; }
  const Act& activation() const noexcept { return pass_.activation(); }
  std::string name() const {
    return std::string("Conv2d<") + Act::name + ">(" + to_string(input_shape()) + " -> " +
           to_string(output_shape()) + ", " + kernel_.describe() + ")";
  }

  void place(Index offset) noexcept { offset_ = offset; }

  template <class Engine>
  void initialize(S* values, Engine& rng) const {
    MatrixMap<S> K(values + offset_, windows_.patch_size(), out_channels_);
    const Index k2 = windows_.size * windows_.size, s2 = windows_.stride * windows_.stride;
    latent::initialize(init_, K, windows_.image.channels * k2,
                       std::max<Index>(1, (out_channels_ * k2 + s2 - 1) / s2), rng);
    bias(values).setZero();
  }

  void weights(std::vector<Segment>& out) const {
    out.push_back({offset_, kernel_values(), windows_.patch_size()});
  }

  /// K as a patch_size x out_channels matrix: column o is output channel o's kernel.
  ConstMatrixMap<S> weight(const S* values) const {
    return ConstMatrixMap<S>(values + offset_, windows_.patch_size(), out_channels_);
  }
  Eigen::Map<const Vector<S>> bias(const S* values) const {
    return Eigen::Map<const Vector<S>>(values + offset_ + kernel_values(), out_channels_);
  }
  Eigen::Map<Vector<S>> bias(S* values) const {
    return Eigen::Map<Vector<S>>(values + offset_ + kernel_values(), out_channels_);
  }

  ConstMatrixMap<S> forward(const S* values, const ConstMatrixRef<S>& X) {
    assert(X.rows() == input_size());
    const Index n = X.cols(), rows = windows_.positions() * n;
    MatrixMap<S> P = patches_.view(rows, windows_.patch_size());
    detail::gather_patches<S>(windows_, X, P);
    MatrixMap<S> G = per_position_.view(rows, out_channels_);
    forward_product_(G, P, weight(values), false);
    detail::positions_to_samples<S>(G, bias(values), pass_.preactivation(output_size(), n));
    return pass_.activate();
  }

  /// As forward, into `out` (output_size x n) instead of the workspace.
  void infer(const S* values, const ConstMatrixRef<S>& X, Matrix<S>& out) const {
    assert(X.rows() == input_size());
    Matrix<S> P(windows_.positions() * X.cols(), windows_.patch_size());
    detail::gather_patches<S>(windows_, X, P);
    const Matrix<S> G = P * weight(values);
    out.resize(output_size(), X.cols());
    detail::positions_to_samples<S>(G, bias(values), out);
    if constexpr (!std::is_same_v<Act, Identity>) out.array() = activation().value(out.array());
  }

  ConstMatrixMap<S> backward(const S* values, S* gradients, const ConstMatrixRef<S>& X,
                             const ConstMatrixRef<S>& dA, bool input_gradient) {
    if constexpr (std::is_same_v<Act, Identity>)
      return backward_preactivation(values, gradients, X, dA, input_gradient);
    else
      return backward_preactivation(values, gradients, X, pass_.preactivation_gradient(dA),
                                    input_gradient);
  }

  /// X must be the input of the last forward: the patches gathered from it are reused.
  ConstMatrixMap<S> backward_preactivation(const S* values, S* gradients,
                                           [[maybe_unused]] const ConstMatrixRef<S>& X,
                                           const ConstMatrixRef<S>& dZ, bool input_gradient) {
    assert(X.rows() == input_size() && dZ.rows() == output_size() && dZ.cols() == X.cols());
    const Index rows = windows_.positions() * dZ.cols();
    MatrixMap<S> dG = per_position_.view(rows, out_channels_);  // G is spent: reuse its storage
    detail::samples_to_positions<S>(dZ, out_channels_, dG);
    bias(gradients).noalias() += dG.colwise().sum().transpose();
    MatrixMap<S> dK(gradients + offset_, windows_.patch_size(), out_channels_);
    weight_product_(dK, patches_.last().transpose(), dG, true);  // dL/dK += P^T dG
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, input_size(), 0);
    MatrixMap<S> dP = patch_gradients_.view(rows, windows_.patch_size());
    input_product_(dP, dG, weight(values).transpose(), false);  // dL/dP = dG K^T
    detail::scatter_patches<S>(windows_, dP, dx_.view(input_size(), dZ.cols()));
    return dx_.last();
  }

  ConstMatrixMap<S> preactivation() const { return pass_.preactivation(); }
  ConstMatrixMap<S> output() const { return pass_.output(); }

 private:
  Index kernel_values() const noexcept { return windows_.patch_size() * out_channels_; }

  detail::Windows windows_;
  Index out_channels_;
  Kernel kernel_;
  Init init_;
  Index offset_ = 0;
  detail::ActivationPass<S, Act> pass_;
  detail::Workspace<S> patches_, per_position_, patch_gradients_, dx_;
  detail::Gemm<S> forward_product_, weight_product_, input_product_;
};

}  // namespace latent

#endif  // LATENT_LAYERS_CONV2D_HPP
