#ifndef LATENT_LAYERS_SEQUENTIAL_HPP
#define LATENT_LAYERS_SEQUENTIAL_HPP

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/parameters.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/parallel.hpp"
#include "latent/layers/image.hpp"

namespace latent {

/// A chain of layers fixed at compile time: the output of each is the input of the next.
/// `Sequential<Dense<float, ReLU>, Dense<float, Sigmoid>>` holds its layers in a tuple and walks
/// them with folds and `if constexpr`: no virtual calls, and every layer's passes inline.
///
/// A Sequential holds structure and workspaces, not parameters: the model that owns it places
/// it in its arena (`place`) and hands the arena to `forward` and `backward`. Every layer follows
/// the contract written on Dense (layers/dense.hpp). `forward` runs through the layers'
/// workspaces (allocation-free once warm, one thread at a time); `infer` is const, runs
/// through buffers of its own call and so may run on one Sequential from several threads.
///
/// Right: `Sequential encoder{Dense<float, ReLU>(784, 128), Dense<float, ReLU>(128, 32)};`
/// Wrong: `Sequential{Dense<float, ReLU>(784, 128), Dense<float, ReLU>(64, 32)}` throws
/// std::invalid_argument naming both layers: 128 outputs cannot feed 64 inputs.
///
/// Image layers (Conv2d, ConvTranspose2d, MaxPool2d, Upsample2d; layers/image.hpp) meet their
/// neighbours by shape, and the error names both shapes. Between an image layer and a vector
/// layer there must be a Flatten or a Reshape, or the chain does not compile.
template <class... Layers>
class Sequential {
  static_assert(sizeof...(Layers) > 0, "latent::Sequential: needs at least one layer");
  using Tuple = std::tuple<Layers...>;

 public:
  static constexpr std::size_t depth = sizeof...(Layers);
  using First = std::tuple_element_t<0, Tuple>;
  using Last = std::tuple_element_t<depth - 1, Tuple>;
  using Scalar = typename First::Scalar;
  static_assert((std::is_same_v<typename Layers::Scalar, Scalar> && ...),
                "latent::Sequential: all layers must have the same scalar type");

  /// Checks neighbouring sizes, and places the layers from offset 0: a Sequential that a model
  /// puts first in its arena (an encoder) keeps these offsets, which tied layers rely on.
  explicit Sequential(Layers... layers) : layers_(std::move(layers)...) {
    check_neighbours(std::make_index_sequence<depth - 1>{});
    place(0);
  }

  Index input_size() const { return first().input_size(); }
  Index output_size() const { return last().output_size(); }
  Index parameter_count() const {
    return std::apply([](const auto&... l) { return (Index{0} + ... + l.parameter_count()); },
                      layers_);
  }
  std::string name() const {
    std::string text = "Sequential(";
    std::apply([&](const auto&... l) { ((text += l.name() + ", "), ...); }, layers_);
    text.resize(text.size() - 2);
    return text + ")";
  }

  template <std::size_t I>
  auto& layer() noexcept { return std::get<I>(layers_); }
  template <std::size_t I>
  const auto& layer() const noexcept { return std::get<I>(layers_); }
  First& first() noexcept { return std::get<0>(layers_); }
  const First& first() const noexcept { return std::get<0>(layers_); }
  Last& last() noexcept { return std::get<depth - 1>(layers_); }
  const Last& last() const noexcept { return std::get<depth - 1>(layers_); }

  /// Places the layers one after another from `offset`; returns the end of the last one.
  Index place(Index offset) {
    std::size_t i = 0;
    std::apply(
        [&](auto&... l) {
          ((offsets_[i++] = offset, l.place(offset), offset += l.parameter_count()), ...);
        },
        layers_);
    return offset;
  }

  template <class Engine>
  void initialize(Scalar* values, Engine& rng) const {
    std::apply([&](const auto&... l) { (l.initialize(values, rng), ...); }, layers_);
  }

  void weights(std::vector<Segment>& out) const {
    std::apply([&](const auto&... l) { (l.weights(out), ...); }, layers_);
  }

  /// The arena ranges of weights that tied layers share (layers without ties add none).
  void ties(std::vector<Segment>& out) const {
    std::apply([&](const auto&... l) { (tie_of(l, out), ...); }, layers_);
  }

  /// In: X (input_size x n). Returns the last layer's output (output_size x n).
  ConstMatrixMap<Scalar> forward(const Scalar* values, const ConstMatrixRef<Scalar>& X) {
    check_input(X, "forward");
    return forward_from<0>(values, X);
  }

  /// As forward, into `out` (resized to output_size x n; not X's storage), touching no
  /// workspace: the chain alternates between `out` and one local buffer.
  void infer(const Scalar* values, const ConstMatrixRef<Scalar>& X, Matrix<Scalar>& out) const {
    check_input(X, "infer");
    Matrix<Scalar> spare;
    infer_from<0>(values, X, out, spare);
  }

  /// In: X, the input of the last forward; dY = dL/d(output). Writes the parameter gradients
  /// into `gradients` as `write` says; returns dL/dX if `input_gradient`, an empty view
  /// otherwise.
  ConstMatrixMap<Scalar> backward(const Scalar* values, Scalar* gradients,
                                  const ConstMatrixRef<Scalar>& X,
                                  const ConstMatrixRef<Scalar>& dY, bool input_gradient,
                                  GradientWrite write = GradientWrite::add) {
    return backward_from<depth - 1, false>(values, gradients, X, dY, input_gradient, write);
  }

  /// As backward, from dL/dZ of the last layer (its pre-activation): the path of losses that
  /// fuse the output activation into their gradient.
  ConstMatrixMap<Scalar> backward_preactivation(const Scalar* values, Scalar* gradients,
                                                const ConstMatrixRef<Scalar>& X,
                                                const ConstMatrixRef<Scalar>& dZ,
                                                bool input_gradient,
                                                GradientWrite write = GradientWrite::add) {
    return backward_from<depth - 1, true>(values, gradients, X, dZ, input_gradient, write);
  }

  ConstMatrixMap<Scalar> output() const { return last().output(); }

 private:
  template <class Layer, class = void>
  struct has_ties : std::false_type {};
  template <class Layer>
  struct has_ties<Layer, std::void_t<decltype(std::declval<const Layer&>().ties(
                             std::declval<std::vector<Segment>&>()))>> : std::true_type {};
  template <class Layer>
  static void tie_of(const Layer& layer, std::vector<Segment>& out) {
    if constexpr (has_ties<Layer>::value) layer.ties(out);
  }

  template <std::size_t... I>
  void check_neighbours(std::index_sequence<I...>) const {
    (check_pair(std::get<I>(layers_), I, std::get<I + 1>(layers_)), ...);
  }

  template <class Layer, class = void>
  struct gives_image : std::false_type {};
  template <class Layer>
  struct gives_image<Layer, std::void_t<decltype(std::declval<const Layer&>().output_shape())>>
      : std::true_type {};
  template <class Layer, class = void>
  struct takes_image : std::false_type {};
  template <class Layer>
  struct takes_image<Layer, std::void_t<decltype(std::declval<const Layer&>().input_shape())>>
      : std::true_type {};

  // Image layers (layers/image.hpp) meet by shape, vector layers by size; where one kind meets
  // the other, Flatten or Reshape must say how the values are read.
  template <class A, class B>
  static void check_pair(const A& a, std::size_t i, const B& b) {
    static_assert(!gives_image<A>::value || takes_image<B>::value,
                  "latent::Sequential: an image layer feeds a vector layer: put "
                  "Flatten(shape) between them (layers/reshape.hpp)");
    static_assert(gives_image<A>::value || !takes_image<B>::value,
                  "latent::Sequential: a vector layer feeds an image layer: put "
                  "Reshape(shape) between them (layers/reshape.hpp)");
    if constexpr (gives_image<A>::value) {
      if (a.output_shape() != b.input_shape())
        throw std::invalid_argument("latent::Sequential: layer " + std::to_string(i) + " " +
                                    a.name() + " gives " + to_string(a.output_shape()) +
                                    " images but layer " + std::to_string(i + 1) + " " +
                                    b.name() + " takes " + to_string(b.input_shape()));
    } else if (a.output_size() != b.input_size())
      throw std::invalid_argument(
          "latent::Sequential: layer " + std::to_string(i) + " " + a.name() + " gives " +
          std::to_string(a.output_size()) + " outputs but layer " + std::to_string(i + 1) + " " +
          b.name() + " takes " + std::to_string(b.input_size()) + " inputs");
  }

  void check_input(const ConstMatrixRef<Scalar>& X, const char* who) const {
    if (X.rows() != input_size())
      throw std::invalid_argument(std::string("latent::Sequential::") + who + ": input has " +
                                  std::to_string(X.rows()) + " rows but " + first().name() +
                                  " takes " + std::to_string(input_size()));
  }

  template <std::size_t I>
  ConstMatrixMap<Scalar> forward_from(const Scalar* values, const ConstMatrixRef<Scalar>& X) {
    ConstMatrixMap<Scalar> Y = std::get<I>(layers_).forward(values, X);
    if constexpr (I + 1 < depth) return forward_from<I + 1>(values, Y);
    else return Y;
  }

  // Layer I reads X and writes `out` if an even number of layers follow it, else `spare`,
  // so that the last one writes `out` and no layer writes its own input.
  template <std::size_t I>
  void infer_from(const Scalar* values, const ConstMatrixRef<Scalar>& X, Matrix<Scalar>& out,
                  Matrix<Scalar>& spare) const {
    Matrix<Scalar>& Y = (depth - 1 - I) % 2 == 0 ? out : spare;
    std::get<I>(layers_).infer(values, X, Y);
    if constexpr (I + 1 < depth) infer_from<I + 1>(values, Y, out, spare);
  }

  template <std::size_t I, bool FromPreactivation>
  ConstMatrixMap<Scalar> backward_from(const Scalar* values, Scalar* gradients,
                                       const ConstMatrixRef<Scalar>& X,
                                       const ConstMatrixRef<Scalar>& dY, bool input_gradient,
                                       GradientWrite write) {
    auto& current = std::get<I>(layers_);
    const bool propagate = I > 0 || input_gradient;
    if (write == GradientWrite::replace)
      detail::set_zero(gradients + offsets_[I], current.parameter_count());
    ConstMatrixMap<Scalar> dX = [&] {
      // The input of layer I is the output of layer I - 1, or X for the first.
      if constexpr (I == 0) return step<FromPreactivation>(current, values, gradients, X, dY, propagate);
      else return step<FromPreactivation>(current, values, gradients,
                                          std::get<I - 1>(layers_).output(), dY, propagate);
    }();
    if constexpr (I > 0)
      return backward_from<I - 1, false>(values, gradients, X, dX, input_gradient, write);
    else return dX;
  }

  template <bool FromPreactivation, class Layer>
  static ConstMatrixMap<Scalar> step(Layer& layer, const Scalar* values, Scalar* gradients,
                                     const ConstMatrixRef<Scalar>& X,
                                     const ConstMatrixRef<Scalar>& dY, bool propagate) {
    if constexpr (FromPreactivation)
      return layer.backward_preactivation(values, gradients, X, dY, propagate);
    else
      return layer.backward(values, gradients, X, dY, propagate);
  }

  Tuple layers_;
  std::array<Index, depth> offsets_{};  // each layer's place in the arena
};

namespace detail {
template <class... Front, class... Back, std::size_t... I, std::size_t... J>
Sequential<Front..., Back...> concatenate(const Sequential<Front...>& front,
                                          const Sequential<Back...>& back,
                                          std::index_sequence<I...>, std::index_sequence<J...>) {
  return Sequential<Front..., Back...>(front.template layer<I>()..., back.template layer<J>()...);
}
}  // namespace detail

/// The layers of `front` followed by those of `back`, as one Sequential (copies of the layers;
/// neighbouring sizes are checked again). An encoder under a classifier head:
///   auto classifier_network = concatenate(model.encoder(), Sequential{Dense<float>(32, 10)});
template <class... Front, class... Back>
Sequential<Front..., Back...> concatenate(const Sequential<Front...>& front,
                                          const Sequential<Back...>& back) {
  return detail::concatenate(front, back, std::index_sequence_for<Front...>{},
                             std::index_sequence_for<Back...>{});
}

}  // namespace latent

#endif  // LATENT_LAYERS_SEQUENTIAL_HPP
