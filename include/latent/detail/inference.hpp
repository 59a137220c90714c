#ifndef LATENT_DETAIL_INFERENCE_HPP
#define LATENT_DETAIL_INFERENCE_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <cassert>
#include <type_traits>

#include "latent/activations.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"

namespace latent::detail {

// The const inference path: it writes only to storage of the caller's (allocated per call),
// never to a layer's workspace or GEMM buffers, so threads may share the model it reads.

/// out = f(W X + b), resized to W.rows() x n: the `infer` of Dense and of TiedDense (W then a
/// transposed view). Bias broadcast first, product accumulated onto it: the order of the
/// layers' forward, so the two paths round alike.
/// In: X (W.cols() x n), not out's storage.
template <class Act, class Weight, class S>
void affine_infer(const Act& activation, const Weight& W, const Eigen::Map<const Vector<S>>& b,
                  const ConstMatrixRef<S>& X, Matrix<S>& out) {
  assert(X.rows() == W.cols());
  out.resize(W.rows(), X.cols());
  out.colwise() = b;
  out.noalias() += W * X;  // out x n
  if constexpr (!std::is_same_v<Act, Identity>) out.array() = activation.value(out.array());
}

/// The results of `infer(block)` for the column blocks of for_each_column_block, side by side:
/// rows x n. The blocks are those of the models' workspace path, so both paths run products of
/// the same shapes. `infer` returns a matrix or an expression of rows x (block's columns).
template <class S, class F>
Matrix<S> infer_column_blocks(const ConstMatrixRef<S>& X, Index rows, F&& infer) {
  Matrix<S> out(rows, X.cols());
  for_each_column_block(X.cols(), [&](Index start, Index count) {
    out.middleCols(start, count) = infer(X.middleCols(start, count));
  });
  return out;
}

}  // namespace latent::detail

#endif  // LATENT_DETAIL_INFERENCE_HPP
