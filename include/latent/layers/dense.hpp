#ifndef LATENT_LAYERS_DENSE_HPP
#define LATENT_LAYERS_DENSE_HPP

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
#include "latent/detail/inference.hpp"
#include "latent/detail/parallel.hpp"
#include "latent/detail/workspace.hpp"

namespace latent {

/// A fully connected layer: A = f(W X + b), with X (inputs x n), W (outputs x inputs),
/// b (outputs), A (outputs x n).
///
/// Layer contract (what Sequential and the models rely on; every layer type follows it):
/// - `input_size()`, `output_size()`, `parameter_count()`, `name()`;
/// - `place(offset)`: its parameters live at [offset, offset + parameter_count()) of the model's
///   arena; the layer keeps the offset, never a pointer, so models copy and move safely;
/// - `initialize(values, rng)` draws its parameters into the arena;
/// - `forward(values, X)` returns A, a view of the layer's own workspace;
/// - `infer(values, X, out) const` writes A into `out` (resized to output_size x n; not X's
///   storage) and nothing else: the const inference path, which threads may run on one layer
///   at once (forward writes the workspace that backward reads);
/// - `backward(values, gradients, X, dA, input_gradient)` takes the X of the last forward and
///   dL/dA, adds dL/dparameters into `gradients` (accumulates, so a shared weight sums its
///   uses), and returns dL/dX when `input_gradient` is true (an empty view otherwise); it
///   writes only its own range of the arena, except a layer that lists other ranges in
///   `ties(out)` (TiedDense);
/// - `backward_preactivation(...)` is the same from dL/dZ, for losses that fuse the output
///   activation into their gradient; `output()` and `preactivation()` are A and Z of the last
///   forward; `Activation` names f;
/// - `weights(out)` appends the segments that L2 weight decay applies to (not the biases).
/// Workspaces grow to the largest batch seen and are reused: a steady-state step allocates
/// nothing.
///
/// Parameter layout at offset: W column-major, then b.
///
/// Right: `Dense<float, ReLU> hidden(784, 256);`
/// Wrong: `Dense<int, ReLU>`: the scalar must be a floating-point type.
template <class S, class Act = Identity>
class Dense {
  static_assert(std::is_floating_point_v<S>, "latent::Dense: S must be float or double");
  static_assert(detail::is_activation<Act, S>::value,
                "latent::Dense: Act must have value(z), derivative(z, a), name and default_init; "
                "see activations.hpp");

 public:
  using Scalar = S;
  using Activation = Act;

  /// In: inputs, outputs > 0; activation (its constants, if any); init (defaults to the
  /// activation's: He for the ReLU family, Glorot otherwise).
  Dense(Index inputs, Index outputs, Act activation = Act{}, Init init = Act::default_init)
      : inputs_(inputs), outputs_(outputs), init_(init), pass_(activation) {
    if (inputs <= 0 || outputs <= 0)
      throw std::invalid_argument("latent::Dense: sizes must be positive, got " +
                                  std::to_string(inputs) + " -> " + std::to_string(outputs));
  }

  Index input_size() const noexcept { return inputs_; }
  Index output_size() const noexcept { return outputs_; }
  Index parameter_count() const noexcept { return outputs_ * inputs_ + outputs_; }
  Index offset() const noexcept { return offset_; }
  const Act& activation() const noexcept { return pass_.activation(); }
  std::string name() const {
    return std::string("Dense<") + Act::name + ">(" + std::to_string(inputs_) + " -> " +
           std::to_string(outputs_) + ")";
  }

  void place(Index offset) noexcept { offset_ = offset; }

  template <class Engine>
  void initialize(S* values, Engine& rng) const {
    MatrixMap<S> W(values + offset_, outputs_, inputs_);
    latent::initialize(init_, W, inputs_, outputs_, rng);
    bias(values).setZero();
  }

  void weights(std::vector<Segment>& out) const {
    out.push_back({offset_, outputs_ * inputs_, outputs_});
  }

  ConstMatrixMap<S> weight(const S* values) const {
    return ConstMatrixMap<S>(values + offset_, outputs_, inputs_);
  }
  Eigen::Map<const Vector<S>> bias(const S* values) const {
    return Eigen::Map<const Vector<S>>(values + offset_ + outputs_ * inputs_, outputs_);
  }
  Eigen::Map<Vector<S>> bias(S* values) const {
    return Eigen::Map<Vector<S>>(values + offset_ + outputs_ * inputs_, outputs_);
  }

  ConstMatrixMap<S> forward(const S* values, const ConstMatrixRef<S>& X) {
    assert(X.rows() == inputs_);
    MatrixMap<S> Z = pass_.preactivation(outputs_, X.cols());
    // Z = b 1^T + W X: the product accumulates onto the broadcast bias, one pass over Z
    // fewer than zeroing it for the product and adding b afterwards.
    detail::parallel_columns(Z.cols(), Z.rows(), [&](Index start, Index count) {
      Z.middleCols(start, count).colwise() = bias(values);
    });
    forward_product_(Z, weight(values), X, true);
    return pass_.activate();
  }

  /// As forward, into `out` (output_size x n) instead of the workspace.
  void infer(const S* values, const ConstMatrixRef<S>& X, Matrix<S>& out) const {
    detail::affine_infer(activation(), weight(values), bias(values), X, out);
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
    MatrixMap<S> dW(gradients + offset_, outputs_, inputs_);
    weight_product_(dW, dZ, X.transpose(), true);  // dL/dW += dZ X^T
    bias(gradients).noalias() += dZ.rowwise().sum();
    if (!input_gradient) return ConstMatrixMap<S>(nullptr, inputs_, 0);
    MatrixMap<S> dX = dx_.view(inputs_, dZ.cols());
    input_product_(dX, weight(values).transpose(), dZ, false);  // dL/dX = W^T dZ
    return dx_.last();
  }

  ConstMatrixMap<S> preactivation() const { return pass_.preactivation(); }
  ConstMatrixMap<S> output() const { return pass_.output(); }

 private:
  Index inputs_;
  Index outputs_;
  Index offset_ = 0;
  Init init_;
  detail::ActivationPass<S, Act> pass_;
  detail::Workspace<S> dx_;
  detail::Gemm<S> forward_product_, weight_product_, input_product_;
};

}  // namespace latent

#endif  // LATENT_LAYERS_DENSE_HPP
