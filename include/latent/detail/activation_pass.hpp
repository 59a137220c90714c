#ifndef LATENT_DETAIL_ACTIVATION_PASS_HPP
#define LATENT_DETAIL_ACTIVATION_PASS_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <type_traits>

#include "latent/activations.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/parallel.hpp"
#include "latent/detail/workspace.hpp"

namespace latent::detail {

/// The activation step of a layer whose pre-activation Z a linear map computes: it keeps Z,
/// A = f(Z) and dL/dZ in workspaces of its own, so that the layer's backward can read them,
/// and skips A and dL/dZ altogether for Identity (A is Z, dL/dZ is dL/dA).
///
///   MatrixMap<S> Z = pass.preactivation(rows, n);  // the layer writes Z
///   return pass.activate();                        // A
///   ... backward: pass.preactivation_gradient(dA)  // dL/dZ = dL/dA .* f'(Z, A)
template <class S, class Act>
class ActivationPass {
 public:
  static constexpr bool identity = std::is_same_v<Act, Identity>;

  explicit ActivationPass(Act activation) : activation_(activation) {}

  const Act& activation() const noexcept { return activation_; }

  /// Storage for Z, rows x n, valid until the next call.
  MatrixMap<S> preactivation(Index rows, Index n) { return z_.view(rows, n); }

  /// A = f(Z) of the Z just written.
  ConstMatrixMap<S> activate() {
    if constexpr (identity) {
      return z_.last();
    } else {
      const ConstMatrixMap<S> Z = z_.last();
      MatrixMap<S> A = a_.view(Z.rows(), Z.cols());
      parallel_ranges(Z.size(), min_part, [&](Index start, Index count) {
        entries(A).segment(start, count) = activation_.value(entries(Z).segment(start, count));
      });
      return a_.last();
    }
  }

  /// dL/dZ = dL/dA .* f'(Z, A), for an activation other than Identity.
  ConstMatrixMap<S> preactivation_gradient(const ConstMatrixRef<S>& dA) {
    static_assert(!identity, "for Identity, dL/dZ is dL/dA: pass it on as it is");
    MatrixMap<S> dZ = dz_.view(dA.rows(), dA.cols());
    if (dA.outerStride() != dA.rows()) {  // a strided view: one pass on this thread
      dZ.array() = dA.array() * activation_.derivative(preactivation().array(), output().array());
      return dz_.last();
    }
    const ConstMatrixMap<S> dA_entries(dA.data(), dA.rows(), dA.cols());
    parallel_ranges(dZ.size(), min_part, [&](Index start, Index count) {
      entries(dZ).segment(start, count) =
          entries(dA_entries).segment(start, count) *
          activation_.derivative(entries(preactivation()).segment(start, count),
                                 entries(output()).segment(start, count));
    });
    return dz_.last();
  }

  ConstMatrixMap<S> preactivation() const { return z_.last(); }
  ConstMatrixMap<S> output() const {
    if constexpr (identity) return z_.last();
    else return a_.last();
  }

 private:
  // Passes split over the threads of set_threads at multiples of 16 entries of the workspaces'
  // aligned storage: every entry is computed by the same SIMD or scalar code whatever the split.
  static constexpr Index min_part = min_entries_per_thread;

  // The entries of a whole matrix, as one array.
  static Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>> entries(MatrixMap<S>& m) {
    return {m.data(), m.size()};
  }
  static Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> entries(const ConstMatrixMap<S>& m) {
    return {m.data(), m.size()};
  }

  Act activation_;
  Workspace<S> z_, a_, dz_;
};

}  // namespace latent::detail

#endif  // LATENT_DETAIL_ACTIVATION_PASS_HPP
