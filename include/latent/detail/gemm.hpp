#ifndef LATENT_DETAIL_GEMM_HPP
#define LATENT_DETAIL_GEMM_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "latent/core/threads.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/parallel.hpp"

namespace latent::detail {

#if LATENT_HAVE_OPENBLAS
/// While alive (when engaged), OpenBLAS runs every call on the calling thread: latent's threads
/// each run a panel of a product, which OpenBLAS's pool would split again. OpenBLAS's thread
/// count is one setting for the process: of several threads training at once, the first to
/// engage saves it and the last to leave puts it back.
class SingleThreadedBlas {
 public:
  explicit SingleThreadedBlas(bool engage) : engaged_(engage) {
    if (!engaged_) return;
    const std::lock_guard<std::mutex> lock(mutex_);
    if (users_++ == 0) {
      saved_ = openblas_get_num_threads();
      openblas_set_num_threads(1);
    }
  }
  ~SingleThreadedBlas() {
    if (!engaged_) return;
    const std::lock_guard<std::mutex> lock(mutex_);
    if (--users_ == 0) openblas_set_num_threads(saved_);
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  static inline std::mutex mutex_;
  static inline int users_ = 0;
  static inline int saved_ = 0;
  bool engaged_;
};
#else
struct SingleThreadedBlas {
  explicit SingleThreadedBlas(bool) {}
};
#endif

/// One matrix product of a layer, C = A B or C += A B (A and B plain or transposed views of
/// column-major storage), that keeps its GEMM packing buffers from one call to the next and
/// splits itself over the threads of set_threads.
///
/// Eigen's `C.noalias() = A * B` creates the packing buffers on every call, on the heap once
/// they pass EIGEN_STACK_ALLOCATION_LIMIT (128 KB: a 784 x 64 float block already does), so a
/// training step of a realistic network would allocate, map and fault in pages in every
/// product. Here the buffers belong to the layer and grow only when a product does. The kernel
/// is Eigen's own (general_matrix_matrix_product, the same as behind `A * B`), or BLAS's sgemm
/// and dgemm when Eigen is built with EIGEN_USE_BLAS, called directly so that an assignment
/// writes C (beta = 0) instead of zeroing it and adding.
///
/// With several threads, C is cut into one panel of whole columns (or rows, when it has more
/// of them) per thread, and each panel is one single-threaded product on latent's OpenMP team,
/// which the element-wise passes of a training step use as well. Equal panels suit the layers'
/// thin products better than OpenBLAS's own threading (1.5x on two threads for 784 x 64 x 512
/// in double, against 1.75x), and OpenBLAS's pool stays idle while the team works. With Eigen's
/// kernel every entry of C is the same sum, in the same order, as on one thread; OpenBLAS's
/// kernels depend on the product's shape, so with BLAS an entry may differ in its last bit
/// (float mostly) from one thread count to another, the same way on every run.
///
/// Matrix-vector products and tiny products take Eigen's ordinary path.
template <class S>
class Gemm {
 public:
  Gemm() = default;
  // The buffers are a cache: a copy starts without them, a move takes them.
  Gemm(const Gemm&) {}
  Gemm& operator=(const Gemm&) {
    panels_.clear();
    return *this;
  }
  Gemm(Gemm&&) noexcept = default;
  Gemm& operator=(Gemm&&) noexcept = default;

  template <class Lhs, class Rhs>
  void operator()(MatrixMap<S> C, const Lhs& A, const Rhs& B, bool accumulate) {
    const Index rows = C.rows(), cols = C.cols(), depth = A.cols();
    if (rows == 0 || cols == 0) return;
    if (depth == 0 || cols == 1 || rows == 1 || rows + cols + depth < 20) {
      if (accumulate) C.noalias() += A * B;
      else C.noalias() = A * B;
      return;
    }
    using LhsTraits = Eigen::internal::blas_traits<Lhs>;
    using RhsTraits = Eigen::internal::blas_traits<Rhs>;
    const auto& lhs = LhsTraits::extract(A);
    const auto& rhs = RhsTraits::extract(B);
    constexpr bool lhs_row_major = std::decay_t<decltype(lhs)>::Flags & Eigen::RowMajorBit;
    constexpr bool rhs_row_major = std::decay_t<decltype(rhs)>::Flags & Eigen::RowMajorBit;
    const Kernel<lhs_row_major, rhs_row_major> kernel{lhs.data(), lhs.outerStride(), rhs.data(),
                                                      rhs.outerStride(), C.data(), C.outerStride(),
                                                      depth, accumulate};

    // Panels of at least 2^18 multiply-adds (tens of microseconds) and 8 columns or rows: a
    // smaller share costs more in the fork than it saves. A part needs an aligned block.
    const bool by_columns = cols >= rows;
    const Index split = by_columns ? cols : rows, across = by_columns ? rows : cols;
    const Index min_part = std::max<Index>(8, (Index(1) << 18) / (across * depth));
    const int parts = static_cast<int>(
        std::min<Index>(parallel_parts(split, min_part), (split + panel_align - 1) / panel_align));
    if (panels_.size() < static_cast<std::size_t>(parts)) panels_.resize(parts);
#if !defined(EIGEN_USE_BLAS)
    // Packing buffers are sized here, where an allocation failure can throw.
    for (int part = 0; part < parts; ++part) {
      const Index count = part_range(parts, part, split, panel_align).second;
      if (count > 0)
        panels_[part].reserve(by_columns ? rows : count, by_columns ? count : cols, depth);
    }
#endif
    // With several threads, OpenBLAS's pool stays out of a step even for a product not split.
    const SingleThreadedBlas single(Eigen::nbThreads() > 1);
    run_parts(parts, split, panel_align, [&](int part, Index start, Index count) {
      if (by_columns) kernel.columns(panels_[part], rows, start, count);
      else kernel.rows(panels_[part], start, count, cols);
    });
  }

 private:
#if defined(EIGEN_USE_BLAS)
  static constexpr Index panel_align = 16;
  struct Panel {};  // BLAS packs into buffers of its own
#else
  // Eigen's kernel takes rows three packets at a time (24 floats or 12 doubles with AVX, twice
  // that with AVX-512) and columns four at a time, and adds up the rest in code of another
  // order: panels that start at multiples of 48 keep every entry in the code it has on one
  // thread.
  static constexpr Index panel_align = 48;

  using Blocking = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, S, S, Eigen::Dynamic,
                                                        Eigen::Dynamic, Eigen::Dynamic, 1, false>;

  // The packing buffers of one panel. Blocking sizes for the largest product seen serve every
  // smaller one: the kernel clamps its row and column blocks to the product and steps through
  // the depth.
  class Panel {
   public:
    void reserve(Index rows, Index cols, Index depth) {
      if (!blocking_ || rows > rows_ || cols > cols_ || depth > depth_) {
        rows_ = std::max(rows, rows_);
        cols_ = std::max(cols, cols_);
        depth_ = std::max(depth, depth_);
        blocking_ = std::make_unique<Blocking>(rows_, cols_, depth_, 1, true);
        blocking_->allocateAll();
      }
    }
    Blocking& blocking() { return *blocking_; }

   private:
    std::unique_ptr<Blocking> blocking_;
    Index rows_ = 0, cols_ = 0, depth_ = 0;
  };
#endif

  // C (or a panel of it) = or += op(A) op(B), A and B given by pointer and outer stride; a
  // transposed operand is stored row-major.
  template <bool LhsRowMajor, bool RhsRowMajor>
  struct Kernel {
    const S* lhs;
    Index lhs_stride;
    const S* rhs;
    Index rhs_stride;
    S* result;
    Index result_stride;
    Index depth;
    bool accumulate;

    // Columns [start, start + count) of C: the same columns of B.
    void columns(Panel& panel, Index rows, Index start, Index count) const {
      const S* b = rhs + (RhsRowMajor ? start : start * rhs_stride);
      product(panel, rows, count, lhs, b, result + start * result_stride);
    }
    // Rows [start, start + count) of C: the same rows of A.
    void rows(Panel& panel, Index start, Index count, Index cols) const {
      const S* a = lhs + (LhsRowMajor ? start * lhs_stride : start);
      product(panel, count, cols, a, rhs, result + start);
    }

    void product(Panel& panel, Index m, Index n, const S* a, const S* b, S* c) const {
#if defined(EIGEN_USE_BLAS)
      static_cast<void>(panel);
      const char transa = LhsRowMajor ? 'T' : 'N', transb = RhsRowMajor ? 'T' : 'N';
      const int M = static_cast<int>(m), N = static_cast<int>(n), K = static_cast<int>(depth);
      const int lda = static_cast<int>(lhs_stride), ldb = static_cast<int>(rhs_stride);
      const int ldc = static_cast<int>(result_stride);
      const S alpha(1), beta(accumulate ? 1 : 0);
      if constexpr (std::is_same_v<S, float>)
        sgemm_(&transa, &transb, &M, &N, &K, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
      else
        dgemm_(&transa, &transb, &M, &N, &K, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
#else
      if (!accumulate)
        Eigen::Map<Matrix<S>, 0, Eigen::OuterStride<>>(c, m, n, Eigen::OuterStride<>(result_stride))
            .setZero();
      Eigen::internal::general_matrix_matrix_product<
          Index, S, LhsRowMajor ? Eigen::RowMajor : Eigen::ColMajor, false, S,
          RhsRowMajor ? Eigen::RowMajor : Eigen::ColMajor, false, Eigen::ColMajor,
          1>::run(m, n, depth, a, lhs_stride, b, rhs_stride, c, 1, result_stride, S(1),
                  panel.blocking(), nullptr);
#endif
    }
  };

  std::vector<Panel> panels_;
};

}  // namespace latent::detail

#endif  // LATENT_DETAIL_GEMM_HPP
