#ifndef LATENT_OPTIM_STATE_HPP
#define LATENT_OPTIM_STATE_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "latent/core/types.hpp"

namespace latent {

/// What an optimizer remembers between steps, as its state() gives it and restore() takes it:
/// enough to continue training exactly where it stopped (io::Checkpoint stores it).
template <class S>
struct OptimizerState {
  std::string kind;                ///< the optimizer's class, "latent::Adam", "latent::Sgd", ...
  std::int64_t steps = 0;          ///< steps taken, where the update depends on it (Adam's t)
  std::vector<Vector<S>> buffers;  ///< per-parameter state in the optimizer's order, each
                                   ///< empty (not yet used) or one entry per parameter
};

namespace detail {

/// Refuses a state made by another kind of optimizer or of the wrong shape, before an
/// optimizer's restore() changes anything.
template <class S>
void check_state(const OptimizerState<S>& state, const char* kind, std::size_t buffers) {
  const std::string who = std::string(kind) + "::restore";
  if (state.kind != kind)
    throw std::invalid_argument(who + ": the state is of a " +
                                (state.kind.empty() ? std::string("nameless optimizer") : state.kind));
  if (state.buffers.size() != buffers)
    throw std::invalid_argument(who + ": the state has " + std::to_string(state.buffers.size()) +
                                " buffers, " + kind + " keeps " + std::to_string(buffers));
  if (state.steps < 0) throw std::invalid_argument(who + ": negative step count");
  Index size = 0;
  for (const Vector<S>& buffer : state.buffers) {
    if (buffer.size() == 0) continue;
    if (size != 0 && buffer.size() != size)
      throw std::invalid_argument(who + ": the state's buffers differ in length");
    size = buffer.size();
  }
}

}  // namespace detail
}  // namespace latent

#endif  // LATENT_OPTIM_STATE_HPP
