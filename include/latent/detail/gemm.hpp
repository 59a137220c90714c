#ifndef LATENT_DETAIL_GEMM_HPP
#define LATENT_DETAIL_GEMM_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <algorithm>
#include <memory>
#include <type_traits>

#include "latent/core/types.hpp"

namespace latent::detail {

/// One matrix product of a layer, C = A B or C += A B (A and B plain or transposed views of
/// column-major storage), that keeps its GEMM packing buffers from one call to the next.
///
/// Eigen's `C.noalias() = A * B` creates the packing buffers on every call, on the heap once
/// they pass EIGEN_STACK_ALLOCATION_LIMIT (128 KB: a 784 x 64 float block already does), so a
/// training step of a realistic network would allocate, map and fault in pages in every
/// product. Here the buffers belong to the layer and grow only when a product does. The kernel
/// is Eigen's own (general_matrix_matrix_product, the same as behind `A * B`), or BLAS's sgemm
/// and dgemm when Eigen is built with EIGEN_USE_BLAS.
///
/// Matrix-vector products, tiny products and products that Eigen would split over several
/// OpenMP threads take Eigen's ordinary path: the threaded path sizes its buffers per call.
template <class S>
class Gemm {
 public:
  Gemm() = default;
  // The buffers are a cache: a copy starts without them, a move takes them.
  Gemm(const Gemm&) {}
  Gemm& operator=(const Gemm&) {
    blocking_.reset();
    rows_ = cols_ = depth_ = 0;
    return *this;
  }
  Gemm(Gemm&&) noexcept = default;
  Gemm& operator=(Gemm&&) noexcept = default;

  template <class Lhs, class Rhs>
  void operator()(MatrixMap<S> C, const Lhs& A, const Rhs& B, bool accumulate) {
    const Index rows = C.rows(), cols = C.cols(), depth = A.cols();
    if (rows == 0 || cols == 0) return;
    if (depth == 0 || cols == 1 || rows == 1 || rows + cols + depth < 20 || Eigen::nbThreads() > 1) {
      if (accumulate) C.noalias() += A * B;
      else C.noalias() = A * B;
      return;
    }
    using LhsTraits = Eigen::internal::blas_traits<Lhs>;
    using RhsTraits = Eigen::internal::blas_traits<Rhs>;
    const auto& lhs = LhsTraits::extract(A);
    const auto& rhs = RhsTraits::extract(B);
    constexpr int LhsOrder = (std::decay_t<decltype(lhs)>::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
    constexpr int RhsOrder = (std::decay_t<decltype(rhs)>::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;
    reserve(rows, cols, depth);
    if (!accumulate) C.setZero();
    Eigen::internal::general_matrix_matrix_product<Index, S, LhsOrder, false, S, RhsOrder, false,
                                                   Eigen::ColMajor, 1>::run(
        rows, cols, depth, lhs.data(), lhs.outerStride(), rhs.data(), rhs.outerStride(),
        C.data(), 1, C.outerStride(), S(1), *blocking_, nullptr);
  }

 private:
  using Blocking = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, S, S, Eigen::Dynamic,
                                                        Eigen::Dynamic, Eigen::Dynamic, 1, false>;

  // Blocking sizes for the largest product seen serve every smaller one: the kernel clamps its
  // row and column blocks to the product and steps through the depth.
  void reserve(Index rows, Index cols, Index depth) {
    if (blocking_ && rows <= rows_ && cols <= cols_ && depth <= depth_) return;
    rows_ = std::max(rows, rows_);
    cols_ = std::max(cols, cols_);
    depth_ = std::max(depth, depth_);
    blocking_ = std::make_unique<Blocking>(rows_, cols_, depth_, 1, true);
    blocking_->allocateAll();
  }

  std::unique_ptr<Blocking> blocking_;
  Index rows_ = 0, cols_ = 0, depth_ = 0;
};

}  // namespace latent::detail

#endif  // LATENT_DETAIL_GEMM_HPP
