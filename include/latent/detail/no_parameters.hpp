#ifndef LATENT_DETAIL_NO_PARAMETERS_HPP
#define LATENT_DETAIL_NO_PARAMETERS_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <vector>

#include "latent/core/types.hpp"

namespace latent::detail {

/// The parameter side of the layer contract (layers/dense.hpp) for a layer that has none:
/// pooling, upsampling and reshaping layers take no room in the arena.
struct NoParameters {
  Index parameter_count() const noexcept { return 0; }
  void place(Index) noexcept {}
  template <class S, class Engine>
  void initialize(S*, Engine&) const {}
  void weights(std::vector<Segment>&) const {}
};

}  // namespace latent::detail

#endif  // LATENT_DETAIL_NO_PARAMETERS_HPP
