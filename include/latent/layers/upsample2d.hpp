#ifndef LATENT_LAYERS_UPSAMPLE2D_HPP
#define LATENT_LAYERS_UPSAMPLE2D_HPP

#include <cassert>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "latent/core/types.hpp"
#include "latent/detail/no_parameters.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/layers/image.hpp"

namespace latent {

/// Nearest-neighbour upsampling by an integer factor: each value becomes a factor x factor
/// block of copies, channel by channel. Backward sums each block's gradients into its value.
/// Otherwise the contract of Dense (layers/dense.hpp), without parameters or activation.
///
/// Right: `Upsample2d<float>({16, 7, 7}, 2)`: 16x14x14 out.
template <class S>
class Upsample2d : public detail::NoParameters {
  static_assert(std::is_floating_point_v<S>, "latent::Upsample2d: S must be float or double");

 public:
  using Scalar = S;

  Upsample2d(ImageShape input, Index factor) : input_(input), factor_(factor) {
    detail::check_image(input, "latent::Upsample2d");
    if (factor <= 0)
      throw std::invalid_argument("latent::Upsample2d: factor must be positive, got " +
                                  std::to_string(factor));
  }

  ImageShape input_shape() const noexcept { return input_; }
  ImageShape output_shape() const noexcept {
    return {input_.channels, input_.height * factor_, input_.width * factor_};
  }
  Index input_size() const noexcept { return input_.size(); }
  Index output_size() const noexcept { return output_shape().size(); }
  Index factor() const noexcept { return factor_; }
  std::string name() const {
    return "Upsample2d(" + to_string(input_shape()) + " -> " + to_string(output_shape()) +
           ", factor " + std::to_string(factor_) + ")";
  }

  ConstMatrixMap<S> forward(const S*, const ConstMatrixRef<S>& X) {
    assert(X.rows() == input_size());
    upsample(X, a_.view(output_size(), X.cols()));
    return a_.last();
  }

  void infer(const S*, const ConstMatrixRef<S>& X, Matrix<S>& out) const {
    assert(X.rows() == input_size());
    out.resize(output_size(), X.cols());
    upsample(X, out);
  }

  ConstMatrixMap<S> backward(const S*, S*, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& dA,
                             bool input_gradient) {
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, input_size(), 0);
    MatrixMap<S> dX = dx_.view(input_size(), dA.cols());
    dX.setZero();
    const Index wide = input_.width * factor_;
    for_each_value(dA.cols(), [&](Index j, Index in, Index out) {
      for (Index a = 0; a < factor_; ++a)
        for (Index b = 0; b < factor_; ++b) dX(in, j) += dA(out + a * wide + b, j);
    });
    return dx_.last();
  }

  ConstMatrixMap<S> output() const { return a_.last(); }

 private:
  // f(j, in, out): input row `in` of sample j, and the output row of its block's top left.
  template <class F>
  void for_each_value(Index n, F&& f) const {
    const Index wide = input_.width * factor_;
    for (Index j = 0; j < n; ++j)
      for (Index c = 0; c < input_.channels; ++c)
        for (Index y = 0; y < input_.height; ++y)
          for (Index x = 0; x < input_.width; ++x)
            f(j, (c * input_.height + y) * input_.width + x,
              (c * input_.height * factor_ + y * factor_) * wide + x * factor_);
  }

  void upsample(const ConstMatrixRef<S>& X, MatrixRef<S> A) const {
    const Index wide = input_.width * factor_;
    for_each_value(X.cols(), [&](Index j, Index in, Index out) {
      for (Index a = 0; a < factor_; ++a)
        for (Index b = 0; b < factor_; ++b) A(out + a * wide + b, j) = X(in, j);
    });
  }

  ImageShape input_;
  Index factor_;
  detail::Workspace<S> a_, dx_;
};

}  // namespace latent

#endif  // LATENT_LAYERS_UPSAMPLE2D_HPP
