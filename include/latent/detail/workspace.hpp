#ifndef LATENT_DETAIL_WORKSPACE_HPP
#define LATENT_DETAIL_WORKSPACE_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include "latent/core/types.hpp"

namespace latent::detail {

/// Storage for one batch-shaped buffer of a layer. It only grows: once it has held the largest
/// batch, any batch up to that size is a view of the same memory, so a training loop whose last
/// batch is shorter, or an inference call between two steps, allocates nothing.
template <class S>
class Workspace {
 public:
  MatrixMap<S> view(Index rows, Index cols) {
    if (rows * cols > storage_.size()) storage_.resize(rows * cols);
    rows_ = rows;
    cols_ = cols;
    return MatrixMap<S>(storage_.data(), rows, cols);
  }

  /// The view handed out last.
  ConstMatrixMap<S> last() const { return ConstMatrixMap<S>(storage_.data(), rows_, cols_); }

 private:
  Vector<S> storage_;
  Index rows_ = 0;
  Index cols_ = 0;
};

}  // namespace latent::detail

#endif  // LATENT_DETAIL_WORKSPACE_HPP
