#ifndef LATENT_CORE_PARAMETERS_HPP
#define LATENT_CORE_PARAMETERS_HPP

#include <utility>
#include <vector>

#include "latent/core/types.hpp"
#include "latent/detail/parallel.hpp"

namespace latent {

/// How a chain's backward (Sequential::backward) writes its layers' parameter gradients.
enum class GradientWrite {
  /// Adds them to what `gradients` holds (the layer contract): uses of a shared weight sum up.
  add,
  /// Zeroes each layer's own range just before that layer's backward adds into it, where its
  /// weight-gradient product then finds the range in cache (zeroing the whole buffer at the
  /// start of the step, out of cache by then, cost W1's step at batch 32 about 5% more:
  /// benchmarks/train_step). Only when nothing else in the model writes into the chain's
  /// ranges during the step: no tied layer in the model, no penalty adding to a weight's
  /// gradient; a layer's backward writes only its own range unless it has ties().
  replace,
};

/// All trainable values of one model in one contiguous buffer, and their gradients in a second
/// of the same length. Layers keep offsets into it, never pointers, so a model that owns an
/// arena copies and moves like a value. An optimizer step is a few passes over two flat vectors;
/// saving is one write; tied weights are two uses of one range, whose gradients add up.
template <class S>
class ParameterArena {
 public:
  ParameterArena() = default;
  /// In: size of the buffers; weights, the segments that L2 weight decay applies to.
  ParameterArena(Index size, std::vector<Segment> weights)
      : values_(Vector<S>::Zero(size)), gradients_(Vector<S>::Zero(size)),
        weights_(std::move(weights)) {}

  Index size() const noexcept { return values_.size(); }
  Vector<S>& values() noexcept { return values_; }
  const Vector<S>& values() const noexcept { return values_; }
  Vector<S>& gradients() noexcept { return gradients_; }
  const Vector<S>& gradients() const noexcept { return gradients_; }
  const std::vector<Segment>& weights() const noexcept { return weights_; }

  /// Sets every gradient to 0, split over the threads of set_threads.
  void zero_gradients() { detail::set_zero(gradients_.data(), gradients_.size()); }

  /// L2 weight decay on the weights (not the biases): adds lambda w to their gradients and
  /// returns the penalty (lambda / 2) sum w^2.
  S add_weight_decay(S lambda) {
    S penalty(0);
    for (const Segment& w : weights_) {
      penalty += values_.segment(w.offset, w.size).squaredNorm();
      gradients_.segment(w.offset, w.size) += lambda * values_.segment(w.offset, w.size);
    }
    return S(0.5) * lambda * penalty;
  }

  /// (lambda / 2) sum w^2 without touching the gradients.
  S weight_penalty(S lambda) const {
    S penalty(0);
    for (const Segment& w : weights_) penalty += values_.segment(w.offset, w.size).squaredNorm();
    return S(0.5) * lambda * penalty;
  }

 private:
  Vector<S> values_;
  Vector<S> gradients_;
  std::vector<Segment> weights_;
};

}  // namespace latent

#endif  // LATENT_CORE_PARAMETERS_HPP
