#ifndef LATENT_MODELS_FEED_FORWARD_HPP
#define LATENT_MODELS_FEED_FORWARD_HPP

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/parameters.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/detail/inference.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/losses.hpp"

namespace latent {

/// Options of FeedForward.
struct FeedForwardOptions {
  /// L2 weight decay lambda >= 0 on every weight matrix (not the biases). Default 0.
  double weight_decay = 0.0;

  void check() const { detail::check_non_negative(weight_decay, "weight_decay", "latent::FeedForward"); }
};

/// A supervised network: predictions = network(X), trained to minimise Loss(predictions, T)
/// (+ weight decay), where T is `Loss::target_type<S>`: a matrix of targets for
/// MeanSquaredError and the binary cross-entropies, Labels for SoftmaxCrossEntropy.
///
///   Rng rng(7);
///   FeedForward<Sequential<Dense<float, ReLU>, Dense<float>>, SoftmaxCrossEntropy> classifier(
///       Sequential{Dense<float, ReLU>(784, 128), Dense<float>(128, 10)}, rng);
///   fit(classifier, adam, images, labels, FitOptions{}, rng);
///   Matrix<float> p = softmax(classifier.predict(images));
///
/// predict and loss on a non-const model run through its workspace (allocation-free once
/// warm, one thread at a time); predict on a const model allocates per call and may run on
/// one model from several threads at once (docs/threads.md).
template <class Network, class Loss = MeanSquaredError>
class FeedForward {
 public:
  using Scalar = typename Network::Scalar;
  using S = Scalar;
  using target_type = typename Loss::template target_type<S>;
  using target_ref = Eigen::Ref<const target_type>;

  template <class Engine>
  FeedForward(Network network, Engine& rng, FeedForwardOptions options = {})
      : FeedForward(std::move(network), options, Unset{}) {
    network_.initialize(arena_.values().data(), rng);
  }

  /// A network whose parameters start at `parameters` (laid out as the network places its
  /// layers, one after another from offset 0), for a network assembled from trained parts:
  /// see with_head (models/transfer.hpp). Throws std::invalid_argument if the size differs.
  static FeedForward from_parameters(Network network, const Eigen::Ref<const Vector<S>>& parameters,
                                     FeedForwardOptions options = {}) {
    FeedForward model(std::move(network), options, Unset{});
    if (parameters.size() != model.parameter_count())
      throw std::invalid_argument("latent::FeedForward::from_parameters: " +
                                  std::to_string(parameters.size()) + " parameters given but " +
                                  model.network_.name() + " has " +
                                  std::to_string(model.parameter_count()));
    model.parameters() = parameters;
    return model;
  }

  Index input_size() const { return network_.input_size(); }
  Index output_size() const { return network_.output_size(); }
  Index parameter_count() const { return arena_.size(); }
  const FeedForwardOptions& options() const noexcept { return options_; }
  Vector<S>& parameters() noexcept { return arena_.values(); }
  const Vector<S>& parameters() const noexcept { return arena_.values(); }
  const Vector<S>& gradients() const noexcept { return arena_.gradients(); }
  Network& network() noexcept { return network_; }
  const Network& network() const noexcept { return network_; }

  /// The network's outputs for X (input_size x n): output_size x n (logits for the
  /// logits losses).
  Matrix<S> predict(const ConstMatrixRef<S>& X) {
    Matrix<S> out(output_size(), X.cols());
    predict(X, out);
    return out;
  }
  void predict(const ConstMatrixRef<S>& X, MatrixRef<S> out) {
    detail::check_data(X, input_size(), "latent::FeedForward::predict", true);
    detail::check_output(out, output_size(), X.cols(), "latent::FeedForward::predict");
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      out.middleCols(start, count) = network_.forward(values(), X.middleCols(start, count));
    });
  }

  /// As predict(X), through buffers of this call: safe from several threads at once.
  Matrix<S> predict(const ConstMatrixRef<S>& X) const {
    detail::check_data(X, input_size(), "latent::FeedForward::predict", true);
    Matrix<S> out;
    return detail::infer_column_blocks(
        X, output_size(), [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
          network_.infer(values(), x, out);
          return out;
        });
  }

  /// Throws std::invalid_argument if T cannot be the targets of n samples.
  void check_targets(const target_ref& T, Index n, std::string_view who) const {
    Loss::template check_target<S>(T, output_size(), n, who);
  }

  /// The loss of X against T by Loss's reduction (mean over samples); no weight decay.
  S loss(const ConstMatrixRef<S>& X, const target_ref& T) {
    detail::check_data(X, input_size(), "latent::FeedForward::loss");
    check_targets(T, X.cols(), "latent::FeedForward::loss");
    double total = 0.0;
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      const ConstMatrixMap<S> output = network_.forward(values(), X.middleCols(start, count));
      total += static_cast<double>(Loss::template value<S>(network_.last().activation(),
                                                           network_.last().preactivation(),
                                                           output, T.middleCols(start, count))) *
               static_cast<double>(count);
    });
    return static_cast<S>(total / static_cast<double>(X.cols()));
  }

  /// One step's work: the objective on (X, T) and its gradient in gradients(). Shapes are
  /// checked here; values once for the whole data by fit.
  template <class Engine>
  S train_batch(const ConstMatrixRef<S>& X, const target_ref& T, Engine& /*rng*/) {
    detail::check_shape(X, input_size(), "latent::FeedForward::train_batch");
    if (T.cols() != X.cols())
      throw std::invalid_argument("latent::FeedForward::train_batch: " +
                                  std::to_string(T.cols()) + " targets for " +
                                  std::to_string(X.cols()) + " samples");
    if constexpr (!std::is_same_v<target_type, Labels>)
      if (T.rows() != output_size())
        throw std::invalid_argument("latent::FeedForward::train_batch: targets have " +
                                    std::to_string(T.rows()) + " rows but the network gives " +
                                    std::to_string(output_size()));
    if (gradient_write_ == GradientWrite::add) arena_.zero_gradients();
    const ConstMatrixMap<S> output = network_.forward(values(), X);
    MatrixMap<S> dZ = output_gradient_.view(output.rows(), output.cols());
    S objective = Loss::template value_and_gradient<S>(
        network_.last().activation(), network_.last().preactivation(), output, T, dZ);
    network_.backward_preactivation(values(), arena_.gradients().data(), X, dZ, false,
                                    gradient_write_);
    if (options_.weight_decay > 0.0)
      objective += arena_.add_weight_decay(static_cast<S>(options_.weight_decay));
    return objective;
  }

 private:
  const S* values() const noexcept { return arena_.values().data(); }

  struct Unset {};
  // Places the layers and sizes the arena; the parameters are left at zero.
  FeedForward(Network network, FeedForwardOptions options, Unset)
      : network_(std::move(network)), options_(options) {
    options_.check();
    const Index size = network_.place(0);
    std::vector<Segment> weights;
    network_.weights(weights);
    arena_ = ParameterArena<S>(size, std::move(weights));
    // A tied layer adds into another layer's range, which must then be zeroed before the step.
    std::vector<Segment> ties;
    network_.ties(ties);
    if (ties.empty()) gradient_write_ = GradientWrite::replace;
  }

  Network network_;
  FeedForwardOptions options_;
  ParameterArena<S> arena_;
  GradientWrite gradient_write_ = GradientWrite::add;
  detail::Workspace<S> output_gradient_;
};

}  // namespace latent

#endif  // LATENT_MODELS_FEED_FORWARD_HPP
