#ifndef LATENT_LAYERS_CONV_TRANSPOSE2D_HPP
#define LATENT_LAYERS_CONV_TRANSPOSE2D_HPP

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

/// The transposed convolution, a decoder's learned upsampling: A = f(K^T * X + b), where K * is
/// the convolution with the same kernel from the output shape back to the input shape, so
/// that ConvTranspose2d's linear part is exactly the adjoint of that Conv2d's (PyTorch's
/// ConvTranspose2d). Each input value spreads, weighted by the kernel, over a size x size
/// window of the output; windows `stride` apart overlap and add.
///
/// Output extent per axis: (input - 1) stride - 2 padding + size + output_padding, where
/// output_padding (< stride) picks one of the `stride` output sizes that a stride-s
/// convolution maps to the same input size.
///
/// Forward: one GEMM over the batch into patches, scattered into the output (col2im); backward:
/// the gather (im2col) of dL/dZ, then two GEMMs (detail/patches.hpp). Otherwise the contract of
/// Dense (layers/dense.hpp), with `input_shape()` and `output_shape()` as on Conv2d.
///
/// Parameter layout at offset: K, in_channels x out_channels x size x size in row-major order
/// (PyTorch's weight layout; here a column-major (out_channels size^2) x in_channels matrix),
/// then one bias per output channel. Initialisers see fan_in = in_channels size^2 / stride^2
/// (the products each output sums, on average) and fan_out = out_channels size^2.
///
/// Right: `ConvTranspose2d<float, Sigmoid>({16, 14, 14}, 1, Kernel(4).stride(2).padding(1))`:
///        1x28x28 out.
/// Wrong: `Kernel(3).stride(2).output_padding(2)` throws: output padding must be below stride.
template <class S, class Act = Identity>
class ConvTranspose2d {
  static_assert(std::is_floating_point_v<S>, "latent::ConvTranspose2d: S must be float or double");
  static_assert(detail::is_activation<Act, S>::value,
                "latent::ConvTranspose2d: Act must have value(z), derivative(z, a), name and "
                "default_init; see activations.hpp");

 public:
  using Scalar = S;
  using Activation = Act;

  ConvTranspose2d(ImageShape input, Index out_channels, Kernel kernel, Act activation = Act{},
                  Init init = Act::default_init)
      : input_(input),
        kernel_(kernel),
        windows_(output_windows(input, out_channels, kernel)),
        init_(init),
        pass_(activation) {}

  ImageShape input_shape() const noexcept { return input_; }
  ImageShape output_shape() const noexcept { return windows_.image; }
  Index input_size() const noexcept { return input_.size(); }
  Index output_size() const noexcept { return windows_.image.size(); }
  Index parameter_count() const noexcept { return kernel_values() + out_channels(); }
  Index offset() const noexcept { return offset_; }
  const Kernel& kernel() const noexcept { return kernel_; }
  const Act& activation() const noexcept { return pass_.activation(); }
  std::string name() const {
    return std::string("ConvTranspose2d<") + Act::name + ">(" + to_string(input_shape()) +
           " -> " + to_string(output_shape()) + ", " + kernel_.describe() + ")";
  }

  void place(Index offset) noexcept { offset_ = offset; }

  template <class Engine>
  void initialize(S* values, Engine& rng) const {
    MatrixMap<S> K(values + offset_, windows_.patch_size(), input_.channels);
    const Index k2 = windows_.size * windows_.size, s2 = windows_.stride * windows_.stride;
    latent::initialize(init_, K, std::max<Index>(1, (input_.channels * k2 + s2 - 1) / s2),
                       out_channels() * k2, rng);
    bias(values).setZero();
  }

  void weights(std::vector<Segment>& out) const {
    out.push_back({offset_, kernel_values(), windows_.patch_size()});
  }

  /// K as an (out_channels size^2) x in_channels matrix: column c spreads input channel c.
  ConstMatrixMap<S> weight(const S* values) const {
    return ConstMatrixMap<S>(values + offset_, windows_.patch_size(), input_.channels);
  }
  Eigen::Map<const Vector<S>> bias(const S* values) const {
    return Eigen::Map<const Vector<S>>(values + offset_ + kernel_values(), out_channels());
  }
  Eigen::Map<Vector<S>> bias(S* values) const {
    return Eigen::Map<Vector<S>>(values + offset_ + kernel_values(), out_channels());
  }

  ConstMatrixMap<S> forward(const S* values, const ConstMatrixRef<S>& X) {
    assert(X.rows() == input_size());
    const Index n = X.cols(), rows = windows_.positions() * n;
    MatrixMap<S> Xp = inputs_per_position_.view(rows, input_.channels);
    detail::samples_to_positions<S>(X, input_.channels, Xp);
    MatrixMap<S> C = spread_.view(rows, windows_.patch_size());
    forward_product_(C, Xp, weight(values).transpose(), false);  // C = Xp K^T
    MatrixMap<S> Z = pass_.preactivation(output_size(), n);
    detail::scatter_patches<S>(windows_, C, Z);
    add_bias(bias(values), Z);
    return pass_.activate();
  }

  /// As forward, into `out` (output_size x n) instead of the workspace.
  void infer(const S* values, const ConstMatrixRef<S>& X, Matrix<S>& out) const {
    assert(X.rows() == input_size());
    Matrix<S> Xp(windows_.positions() * X.cols(), input_.channels);
    detail::samples_to_positions<S>(X, input_.channels, Xp);
    const Matrix<S> C = Xp * weight(values).transpose();
    out.resize(output_size(), X.cols());
    detail::scatter_patches<S>(windows_, C, out);
    add_bias(bias(values), out);
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

  /// X must be the input of the last forward: its per-position copy is reused.
  ConstMatrixMap<S> backward_preactivation(const S* values, S* gradients,
                                           [[maybe_unused]] const ConstMatrixRef<S>& X,
                                           const ConstMatrixRef<S>& dZ, bool input_gradient) {
    assert(X.rows() == input_size() && dZ.rows() == output_size() && dZ.cols() == X.cols());
    const Index n = dZ.cols(), rows = windows_.positions() * n, plane = windows_.image.pixels();
    Eigen::Map<Vector<S>> db = bias(gradients);
    for (Index j = 0; j < n; ++j)
      for (Index c = 0; c < out_channels(); ++c) db(c) += dZ.col(j).segment(c * plane, plane).sum();
    MatrixMap<S> P = patches_.view(rows, windows_.patch_size());
    detail::gather_patches<S>(windows_, dZ, P);
    MatrixMap<S> dK(gradients + offset_, windows_.patch_size(), input_.channels);
    weight_product_(dK, P.transpose(), inputs_per_position_.last(), true);  // dL/dK += P^T Xp
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, input_size(), 0);
    MatrixMap<S> dXp = input_gradients_per_position_.view(rows, input_.channels);
    input_product_(dXp, P, weight(values), false);  // dL/dXp = P K
    detail::positions_to_samples<S>(dXp, dx_.view(input_size(), n));
    return dx_.last();
  }

  ConstMatrixMap<S> preactivation() const { return pass_.preactivation(); }
  ConstMatrixMap<S> output() const { return pass_.output(); }

 private:
  // The windows of the convolution this layer is the adjoint of: on the output image, one
  // window position per input pixel.
  static detail::Windows output_windows(const ImageShape& input, Index out_channels,
                                        const Kernel& kernel) {
    const std::string who = "latent::ConvTranspose2d";
    detail::check_image(input, who);
    if (out_channels <= 0)
      throw std::invalid_argument(who + ": out_channels must be positive, got " +
                                  std::to_string(out_channels));
    if (kernel.size() <= 0 || kernel.stride() <= 0 || kernel.padding() < 0 ||
        kernel.output_padding() < 0 || kernel.output_padding() >= kernel.stride())
      throw std::invalid_argument(who + ": " + kernel.describe() +
                                  ": size and stride must be positive, padding non-negative, "
                                  "output padding non-negative and below the stride");
    const auto extent = [&](Index in) {
      return (in - 1) * kernel.stride() - 2 * kernel.padding() + kernel.size() +
             kernel.output_padding();
    };
    const ImageShape output{out_channels, extent(input.height), extent(input.width)};
    if (output.height <= 0 || output.width <= 0)
      throw std::invalid_argument(who + ": " + kernel.describe() + " leaves no output of the " +
                                  to_string(input) + " image");
    const detail::Windows w =
        detail::windows(output, Kernel(kernel.size()).stride(kernel.stride()).padding(kernel.padding()), who);
    assert(w.rows == input.height && w.cols == input.width);
    return w;
  }

  template <class Bias>
  void add_bias(const Bias& b, MatrixRef<S> Z) const {
    const Index plane = windows_.image.pixels();
    for (Index j = 0; j < Z.cols(); ++j)
      for (Index c = 0; c < out_channels(); ++c)
        Z.col(j).segment(c * plane, plane).array() += b(c);
  }

  Index out_channels() const noexcept { return windows_.image.channels; }
  Index kernel_values() const noexcept { return windows_.patch_size() * input_.channels; }

  ImageShape input_;
  Kernel kernel_;
  detail::Windows windows_;
  Init init_;
  Index offset_ = 0;
  detail::ActivationPass<S, Act> pass_;
  detail::Workspace<S> inputs_per_position_, spread_, patches_, input_gradients_per_position_, dx_;
  detail::Gemm<S> forward_product_, weight_product_, input_product_;
};

}  // namespace latent

#endif  // LATENT_LAYERS_CONV_TRANSPOSE2D_HPP
