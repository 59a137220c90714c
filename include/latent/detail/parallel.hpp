#ifndef LATENT_DETAIL_PARALLEL_HPP
#define LATENT_DETAIL_PARALLEL_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <algorithm>
#include <utility>

#include <Eigen/Core>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "latent/core/types.hpp"

namespace latent::detail {

/// How many parts a pass over n items splits into: one per thread of latent::set_threads
/// (Eigen::nbThreads()), as long as each part keeps at least `min_part` items, and 1 without
/// OpenMP or inside a parallel region of the caller's (threads do not nest).
inline int parallel_parts(Index n, Index min_part) {
#if defined(_OPENMP)
  if (omp_in_parallel()) return 1;
  const Index most = n / std::max<Index>(min_part, 1);
  return static_cast<int>(std::clamp<Index>(most, 1, Eigen::nbThreads()));
#else
  static_cast<void>(n);
  static_cast<void>(min_part);
  return 1;
#endif
}

/// Part `part` of `parts` contiguous ranges covering [0, n): {start, count}, every start but
/// the first a multiple of `align`; the last parts may be empty when n is small.
inline std::pair<Index, Index> part_range(int parts, int part, Index n, Index align) {
  const Index share = (n / parts + align - 1) / align * align;
  const Index start = std::min(n, share * part);
  const Index end = part + 1 == parts ? n : std::min(n, start + share);
  return {start, end - start};
}

/// Runs body(part, start, count) for the `parts` ranges of part_range, each on a thread of one
/// OpenMP team (the caller's thread takes part 0), or all on the calling thread without OpenMP.
/// As every start is a multiple of `align`, a range never splits a SIMD packet the whole pass
/// would have used: each item is computed exactly as on one thread, whatever the number of
/// parts. `body` must not throw: an exception cannot leave an OpenMP region.
template <class Body>
void run_parts(int parts, Index n, Index align, Body&& body) {
  const auto range = [&](int part) {
    const auto [start, count] = part_range(parts, part, n, align);
    if (count > 0) body(part, start, count);
  };
#if defined(_OPENMP)
  if (parts > 1) {
#pragma omp parallel for num_threads(parts) schedule(static, 1)
    for (int part = 0; part < parts; ++part) range(part);
    return;
  }
#endif
  for (int part = 0; part < parts; ++part) range(part);
}

/// body(start, count) over [0, n), split over the threads of set_threads when there are at least
/// `min_part` items per thread; one call on the calling thread otherwise. For element-wise
/// passes: the split changes which thread computes an item, never how.
template <class Body>
void parallel_ranges(Index n, Index min_part, Body&& body) {
  constexpr Index align = 16;  // a whole number of packets of every SIMD width Eigen uses
  run_parts(parallel_parts(n, min_part), n, align,
            [&](int, Index start, Index count) { body(start, count); });
}

/// Sets data[0, n) to 0, split as parallel_ranges splits a pass.
template <class S>
void set_zero(S* data, Index n) {
  parallel_ranges(n, Index(1) << 15, [data](Index start, Index count) {
    std::fill_n(data + start, count, S(0));
  });
}

/// The least share of a cheap element-wise pass worth a thread of its own: about a microsecond
/// of work, as long as waking a spinning thread takes.
inline constexpr Index min_entries_per_thread = Index(1) << 13;

/// body(start, count) over the n columns of a matrix of `rows` rows, split as parallel_ranges
/// splits a pass over its entries.
template <class Body>
void parallel_columns(Index n, Index rows, Body&& body) {
  parallel_ranges(n, std::max<Index>(1, min_entries_per_thread / std::max<Index>(rows, 1)), body);
}

}  // namespace latent::detail

#endif  // LATENT_DETAIL_PARALLEL_HPP
