#ifndef LATENT_LAYERS_RESHAPE_HPP
#define LATENT_LAYERS_RESHAPE_HPP

#include <cassert>
#include <string>
#include <type_traits>

#include "latent/core/types.hpp"
#include "latent/detail/no_parameters.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/layers/image.hpp"

namespace latent {

namespace detail {

/// A layer that hands its input on unchanged: only what the rows mean changes. It copies
/// (one pass, small beside the products around it) rather than hand out a view of its input,
/// which may be a temporary of the caller's.
template <class S>
class Relabel : public NoParameters {
  static_assert(std::is_floating_point_v<S>, "latent: S must be float or double");

 public:
  using Scalar = S;

  ConstMatrixMap<S> forward(const S*, const ConstMatrixRef<S>& X) {
    y_.view(X.rows(), X.cols()) = X;
    return y_.last();
  }
  void infer(const S*, const ConstMatrixRef<S>& X, Matrix<S>& out) const { out = X; }
  ConstMatrixMap<S> backward(const S*, S*, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& dY,
                             bool input_gradient) {
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, dY.rows(), 0);
    dx_.view(dY.rows(), dY.cols()) = dY;
    return dx_.last();
  }
  ConstMatrixMap<S> output() const { return y_.last(); }

 private:
  Workspace<S> y_, dx_;
};

}  // namespace detail

/// Between an image layer and a vector layer (Dense): the image's values, in the order of
/// layers/image.hpp, as a vector of shape.size() values. Sequential refuses an image layer
/// next to a vector layer without Flatten or Reshape between them: the shape changes meaning
/// there, and the model should say so.
///
/// Right: `Sequential{Conv2d<float, ReLU>({1, 28, 28}, 8, Kernel(3)), Flatten<float>({8, 26, 26}),
///                    Dense<float>(8 * 26 * 26, 32)}`
template <class S>
class Flatten : public detail::Relabel<S> {
 public:
  explicit Flatten(ImageShape shape) : shape_(shape) { detail::check_image(shape, "latent::Flatten"); }

  ImageShape input_shape() const noexcept { return shape_; }
  Index input_size() const noexcept { return shape_.size(); }
  Index output_size() const noexcept { return shape_.size(); }
  std::string name() const { return "Flatten(" + to_string(shape_) + ")"; }

 private:
  ImageShape shape_;
};

/// The converse of Flatten: a vector of shape.size() values read as an image, e.g. a decoder's
/// Dense output turned into the feature maps of its first transposed convolution.
template <class S>
class Reshape : public detail::Relabel<S> {
 public:
  explicit Reshape(ImageShape shape) : shape_(shape) { detail::check_image(shape, "latent::Reshape"); }

  ImageShape output_shape() const noexcept { return shape_; }
  Index input_size() const noexcept { return shape_.size(); }
  Index output_size() const noexcept { return shape_.size(); }
  std::string name() const { return "Reshape(" + to_string(shape_) + ")"; }

 private:
  ImageShape shape_;
};

}  // namespace latent

#endif  // LATENT_LAYERS_RESHAPE_HPP
