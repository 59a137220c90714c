#ifndef LATENT_LAYERS_TIED_DENSE_HPP
#define LATENT_LAYERS_TIED_DENSE_HPP

#include <cassert>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/activations.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/activation_pass.hpp"
#include "latent/detail/gemm.hpp"
#include "latent/detail/inference.hpp"
#include "latent/detail/parallel.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/sequential.hpp"

namespace latent {

/// The tied twin of a Dense layer: A = f(W^T X + c), where W (outputs_s x inputs_s) belongs to
/// a source Dense layer of the encoder and c is this layer's own bias. It maps the source's
/// outputs back to its inputs. Its parameters are the bias only; the shared W receives the sum
/// of both layers' gradients (dL/dW += X dZ^T from here, added to the source's range of the
/// arena). It follows the layer contract of Dense (layers/dense.hpp).
///
/// The layer keeps the source's offset in the arena, so the encoder must sit first in the
/// model's arena, as Autoencoder places it; build decoders with tied_decoder(encoder), and the
/// Autoencoder checks that every tie points at one of its encoder's weight matrices.
template <class S, class Act = Identity>
class TiedDense {
  static_assert(std::is_floating_point_v<S>, "latent::TiedDense: S must be float or double");
  static_assert(detail::is_activation<Act, S>::value,
                "latent::TiedDense: Act must have value(z), derivative(z, a), name and "
                "default_init; see activations.hpp");

 public:
  using Scalar = S;
  using Activation = Act;

  template <class SourceAct>
  explicit TiedDense(const Dense<S, SourceAct>& source, Act activation = Act{})
      : inputs_(source.output_size()),
        outputs_(source.input_size()),
        source_offset_(source.offset()),
        pass_(activation) {}

  Index input_size() const noexcept { return inputs_; }
  Index output_size() const noexcept { return outputs_; }
  Index parameter_count() const noexcept { return outputs_; }
  Index offset() const noexcept { return offset_; }
  const Act& activation() const noexcept { return pass_.activation(); }
  std::string name() const {
    return std::string("TiedDense<") + Act::name + ">(" + std::to_string(inputs_) + " -> " +
           std::to_string(outputs_) + ")";
  }

  void place(Index offset) noexcept { offset_ = offset; }
  template <class Engine>
  void initialize(S* values, Engine&) const {
    bias(values).setZero();
  }
  /// The shared matrix is decayed once, as the source's.
  void weights(std::vector<Segment>&) const {}
  /// The arena range of the shared matrix.
  void ties(std::vector<Segment>& out) const {
    out.push_back({source_offset_, inputs_ * outputs_, inputs_});
  }

  /// W of the source, outputs_s x inputs_s = input_size() x output_size().
  ConstMatrixMap<S> shared_weight(const S* values) const {
    return ConstMatrixMap<S>(values + source_offset_, inputs_, outputs_);
  }
  Eigen::Map<const Vector<S>> bias(const S* values) const {
    return Eigen::Map<const Vector<S>>(values + offset_, outputs_);
  }
  Eigen::Map<Vector<S>> bias(S* values) const { return Eigen::Map<Vector<S>>(values + offset_, outputs_); }

  ConstMatrixMap<S> forward(const S* values, const ConstMatrixRef<S>& X) {
    assert(X.rows() == inputs_);
    MatrixMap<S> Z = pass_.preactivation(outputs_, X.cols());
    // Z = b 1^T + W^T X: the product accumulates onto the broadcast bias, one pass over Z
    // fewer than zeroing it for the product and adding b afterwards.
    detail::parallel_columns(Z.cols(), Z.rows(), [&](Index start, Index count) {
      Z.middleCols(start, count).colwise() = bias(values);
    });
    forward_product_(Z, shared_weight(values).transpose(), X, true);
    return pass_.activate();
  }

  /// As forward, into `out` (output_size x n) instead of the workspace.
  void infer(const S* values, const ConstMatrixRef<S>& X, Matrix<S>& out) const {
    detail::affine_infer(activation(), shared_weight(values).transpose(), bias(values), X, out);
  }

  ConstMatrixMap<S> backward(const S* values, S* gradients, const ConstMatrixRef<S>& X,
                             const ConstMatrixRef<S>& dA, bool input_gradient) {
    if constexpr (std::is_same_v<Act, Identity>)
      return backward_preactivation(values, gradients, X, dA, input_gradient);
    else
      return backward_preactivation(values, gradients, X, pass_.preactivation_gradient(dA),
                                    input_gradient);
  }

  ConstMatrixMap<S> backward_preactivation(const S* values, S* gradients,
                                           const ConstMatrixRef<S>& X,
                                           const ConstMatrixRef<S>& dZ, bool input_gradient) {
    assert(X.rows() == inputs_ && dZ.rows() == outputs_ && dZ.cols() == X.cols());
    MatrixMap<S> dW(gradients + source_offset_, inputs_, outputs_);
    weight_product_(dW, X, dZ.transpose(), true);  // Z = W^T X, so dL/dW += X dZ^T
    bias(gradients).noalias() += dZ.rowwise().sum();
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, inputs_, 0);
    MatrixMap<S> dX = dx_.view(inputs_, dZ.cols());
    input_product_(dX, shared_weight(values), dZ, false);  // dL/dX = W dZ
    return dx_.last();
  }

  ConstMatrixMap<S> preactivation() const { return pass_.preactivation(); }
  ConstMatrixMap<S> output() const { return pass_.output(); }

 private:
  Index inputs_;
  Index outputs_;
  Index source_offset_;
  Index offset_ = 0;
  detail::ActivationPass<S, Act> pass_;
  detail::Workspace<S> dx_;
  detail::Gemm<S> forward_product_, weight_product_, input_product_;
};

namespace detail {

// Decoder layer J mirrors encoder layer L - 1 - J and takes the activation of the encoder layer
// before that one, so that each hidden code of the decoder is of the kind the encoder made;
// the last decoder layer takes the output activation.
template <std::size_t J, class Output, class Encoder>
auto tied_layer(const Encoder& encoder) {
  constexpr std::size_t L = Encoder::depth;
  using S = typename Encoder::Scalar;
  const auto& source = encoder.template layer<L - 1 - J>();
  if constexpr (J + 1 < L) {
    const auto& previous = encoder.template layer<L - 2 - J>();
    using Act = typename std::decay_t<decltype(previous)>::Activation;
    return TiedDense<S, Act>(source, previous.activation());
  } else {
    return TiedDense<S, Output>(source, Output{});
  }
}

template <class Output, class Encoder, std::size_t... J>
auto tied_decoder(const Encoder& encoder, std::index_sequence<J...>) {
  return Sequential<decltype(tied_layer<J, Output>(encoder))...>(tied_layer<J, Output>(encoder)...);
}

}  // namespace detail

/// The decoder of a tied-weight autoencoder: the encoder's Dense layers in reverse, each as a
/// TiedDense using the weights transposed with a bias of its own; hidden layers take the
/// activations of the encoder's hidden layers, the last takes Output (Sigmoid for pixels in
/// [0, 1], with BinaryCrossEntropy). Pass the same encoder to the Autoencoder.
///
///   Sequential encoder{Dense<float, ReLU>(784, 256), Dense<float, ReLU>(256, 32)};
///   Autoencoder model(encoder, tied_decoder<Sigmoid>(encoder), rng, BinaryCrossEntropy{});
///   // decoder: TiedDense<ReLU>(32 -> 256), TiedDense<Sigmoid>(256 -> 784)
template <class Output, class... Layers>
auto tied_decoder(const Sequential<Layers...>& encoder) {
  return detail::tied_decoder<Output>(encoder, std::make_index_sequence<sizeof...(Layers)>{});
}

}  // namespace latent

#endif  // LATENT_LAYERS_TIED_DENSE_HPP
