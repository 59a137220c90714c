#ifndef LATENT_LAYERS_MAX_POOL2D_HPP
#define LATENT_LAYERS_MAX_POOL2D_HPP

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "latent/core/types.hpp"
#include "latent/detail/no_parameters.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/layers/image.hpp"

namespace latent {

/// Max pooling: each output value is the largest value under its window, channel by channel.
/// Padding adds no values (a window reads only the image), so every window must keep at least
/// half of itself on the image: padding at most size / 2, as in PyTorch.
///
/// Forward keeps, per output value, where its maximum came from (the first one on a tie), and
/// backward sends each output's gradient there alone: dL/dX is zero elsewhere. Otherwise the
/// contract of Dense (layers/dense.hpp), without parameters or activation.
///
/// Right: `MaxPool2d<float>({16, 28, 28}, 2)`: 2 x 2 windows, stride 2, 16x14x14 out.
template <class S>
class MaxPool2d : public detail::NoParameters {
  static_assert(std::is_floating_point_v<S>, "latent::MaxPool2d: S must be float or double");

 public:
  using Scalar = S;

  /// Windows of size x size, `stride` apart (the size unless the kernel says otherwise).
  MaxPool2d(ImageShape input, Kernel kernel)
      : kernel_(kernel), windows_(detail::windows(input, kernel, "latent::MaxPool2d")) {
    if (kernel.padding() > kernel.size() / 2 || kernel.output_padding() != 0)
      throw std::invalid_argument("latent::MaxPool2d: " + kernel.describe() +
                                  ": padding must be at most half the size, no output padding");
  }
  MaxPool2d(ImageShape input, Index size) : MaxPool2d(input, Kernel(size).stride(size)) {}

  ImageShape input_shape() const noexcept { return windows_.image; }
  ImageShape output_shape() const noexcept {
    return {windows_.image.channels, windows_.rows, windows_.cols};
  }
  Index input_size() const noexcept { return input_shape().size(); }
  Index output_size() const noexcept { return output_shape().size(); }
  std::string name() const {
    return "MaxPool2d(" + to_string(input_shape()) + " -> " + to_string(output_shape()) + ", " +
           kernel_.describe() + ")";
  }

  ConstMatrixMap<S> forward(const S*, const ConstMatrixRef<S>& X) {
    assert(X.rows() == input_size());
    MatrixMap<Index> from = argmax_.view(output_size(), X.cols());
    pool(X, a_.view(output_size(), X.cols()), from.data());
    return a_.last();
  }

  void infer(const S*, const ConstMatrixRef<S>& X, Matrix<S>& out) const {
    assert(X.rows() == input_size());
    out.resize(output_size(), X.cols());
    pool(X, out, nullptr);
  }

  /// dL/dX: each output's gradient at the input value that was its maximum, zero elsewhere.
  ConstMatrixMap<S> backward(const S*, S*, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& dA,
                             bool input_gradient) {
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, input_size(), 0);
    MatrixMap<S> dX = dx_.view(input_size(), dA.cols());
    dX.setZero();
    const ConstMatrixMap<Index> from = argmax_.last();
    for (Index j = 0; j < dA.cols(); ++j)
      for (Index i = 0; i < dA.rows(); ++i) dX(from(i, j), j) += dA(i, j);
    return dx_.last();
  }

  ConstMatrixMap<S> output() const { return a_.last(); }

 private:
  // A = the window maxima of X; with `from`, also the row of X each came from.
  void pool(const ConstMatrixRef<S>& X, MatrixRef<S> A, Index* from) const {
    const ImageShape in = windows_.image;
    const Index q = windows_.positions();
    for (Index j = 0; j < X.cols(); ++j)
      for (Index c = 0; c < in.channels; ++c)
        for (Index y = 0; y < windows_.rows; ++y) {
          const Index top = y * windows_.stride - windows_.padding;
          const Index y0 = std::max<Index>(top, 0), y1 = std::min(top + windows_.size, in.height);
          for (Index x = 0; x < windows_.cols; ++x) {
            const Index left = x * windows_.stride - windows_.padding;
            const Index x0 = std::max<Index>(left, 0), x1 = std::min(left + windows_.size, in.width);
            Index best = c * in.pixels() + y0 * in.width + x0;
            for (Index row = y0; row < y1; ++row)
              for (Index col = x0; col < x1; ++col) {
                const Index at = c * in.pixels() + row * in.width + col;
                if (X(at, j) > X(best, j)) best = at;
              }
            const Index out = c * q + y * windows_.cols + x;
            A(out, j) = X(best, j);
            if (from) from[out + j * A.rows()] = best;
          }
        }
  }

  Kernel kernel_;
  detail::Windows windows_;
  detail::Workspace<S> a_, dx_;
  detail::Workspace<Index> argmax_;
};

}  // namespace latent

#endif  // LATENT_LAYERS_MAX_POOL2D_HPP
