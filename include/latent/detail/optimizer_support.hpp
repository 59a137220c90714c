#ifndef LATENT_DETAIL_OPTIMIZER_SUPPORT_HPP
#define LATENT_DETAIL_OPTIMIZER_SUPPORT_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "latent/core/types.hpp"
#include "latent/detail/parallel.hpp"

namespace latent::detail {

/// Runs `update(i, lane)` over the entries [0, n) of flat buffers, in one pass: `lane` is an
/// Eigen packet of S (covering entries [i, i + packet width)) for the body and a plain S for the
/// tail, so one generic lambda, written with the functions of `simd` below, serves both. An
/// optimizer step reads and writes each of its buffers exactly once this way; a chain of Eigen
/// expressions cannot assign several buffers in one loop, and measured 1.6x slower for Adam.
/// The packet functions are Eigen's internal ones, as its own expressions use them. Under
/// EIGEN_FAST_MATH (Eigen's default) some packet square roots are a reciprocal square root
/// estimate and Newton steps, which Eigen documents as 1-2 bits short of std::sqrt's, with
/// subnormal inputs giving 0: float packets with SSE and AVX, float and double with AVX-512.
/// So tail entries can round differently from body entries; a given entry always rounds the
/// same way, which keeps training deterministic. The pass splits over the threads of
/// set_threads at packet boundaries, so the tail, and every entry's rounding, stay the same
/// whatever the number of threads. Each part calls its own copy of `update`, which must be
/// cheap to copy and callable from several threads at once; an update that captures by value
/// lets the compiler keep what it captured in registers.
template <class S, class Update>
void for_each_lane(Index n, const Update& update) {
  using Packet = typename Eigen::internal::packet_traits<S>::type;
  constexpr Index width = Eigen::internal::packet_traits<S>::size;
  constexpr Index min_part = Index(1) << 14;  // Adam's update on 16k doubles: about 20 us
  parallel_ranges(n, min_part, [&update](Index start, Index count) {
    // A copy on this thread's stack: through the caller's reference, the compiler must assume
    // the stores to the buffers may change the captured pointers and constants, and reloads
    // them every lane (Adam's update in cache, one thread: 1.45x slower in float, 1.35x in
    // double).
    const Update local = update;
    const Index end = start + count;
    Index i = start;
    if constexpr (width > 1)
      for (; i + width <= end; i += width) local(i, Packet{});
    for (; i < end; ++i) local(i, S{});
  });
}

/// The packet operations for_each_lane's updates use; each also takes a plain scalar.
namespace simd {
using Eigen::internal::padd;
using Eigen::internal::pdiv;
using Eigen::internal::pmadd;  // pmadd(a, b, c) = a * b + c
using Eigen::internal::pmul;
using Eigen::internal::psqrt;
using Eigen::internal::psub;

template <class Lane, class S>
Lane load(const S* from) {
  return Eigen::internal::ploadu<Lane>(from);
}
template <class S, class Lane>
void store(S* to, const Lane& value) {
  Eigen::internal::pstoreu(to, value);
}
template <class Lane, class S>
Lane broadcast(S value) {
  return Eigen::internal::pset1<Lane>(value);
}
}  // namespace simd

inline void check_learning_rate(double rate, const char* who) {
  if (!(rate > 0.0) || !std::isfinite(rate))
    throw std::invalid_argument(std::string(who) + ": 'learning_rate' must be positive and finite, got " +
                                std::to_string(rate));
}

inline void check_in_unit_interval(double value, const char* option, const char* who) {
  if (!(value >= 0.0 && value < 1.0))
    throw std::invalid_argument(std::string(who) + ": '" + option + "' must be in [0, 1), got " +
                                std::to_string(value));
}

inline void check_positive(double value, const char* option, const char* who) {
  if (!(value > 0.0) || !std::isfinite(value))
    throw std::invalid_argument(std::string(who) + ": '" + option + "' must be positive, got " +
                                std::to_string(value));
}

inline void check_non_negative(double value, const char* option, const char* who) {
  if (!(value >= 0.0) || !std::isfinite(value))
    throw std::invalid_argument(std::string(who) + ": '" + option + "' must be non-negative, got " +
                                std::to_string(value));
}

inline void check_step(Index parameters, Index gradients, const char* who) {
  if (parameters != gradients)
    throw std::invalid_argument(std::string(who) + "::step: " + std::to_string(parameters) +
                                " parameters but " + std::to_string(gradients) + " gradients");
}

/// Sizes `state` for `n` parameters on the first step; an optimizer's state belongs to one
/// model, so a step on a buffer of another size is a caller mistake.
template <class S>
bool prepare_state(Vector<S>& state, Index n, const char* who) {
  if (state.size() == n) return false;
  if (state.size() != 0)
    throw std::invalid_argument(std::string(who) + "::step: state was made for " +
                                std::to_string(state.size()) + " parameters, got " +
                                std::to_string(n) + "; call reset() to reuse the optimizer");
  state.setZero(n);
  return true;
}

}  // namespace latent::detail

#endif  // LATENT_DETAIL_OPTIMIZER_SUPPORT_HPP
