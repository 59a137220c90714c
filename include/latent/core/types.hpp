#ifndef LATENT_CORE_TYPES_HPP
#define LATENT_CORE_TYPES_HPP

#include <Eigen/Core>

namespace latent {

/// Sizes and indices, as Eigen counts them.
using Index = Eigen::Index;

/// A batch: one sample per column (MNIST is 784 x n), column-major.
template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

/// Views that layers hand to each other: the storage belongs to the layer that returned them and
/// stays valid until that layer's next forward or backward.
template <class S>
using MatrixMap = Eigen::Map<Matrix<S>>;
template <class S>
using ConstMatrixMap = Eigen::Map<const Matrix<S>>;

/// How functions take a batch: binds a Matrix, a Map or a range of whole columns without a copy.
template <class S>
using ConstMatrixRef = Eigen::Ref<const Matrix<S>>;
template <class S>
using MatrixRef = Eigen::Ref<Matrix<S>>;

/// Class labels for a batch: one integer in [0, classes) per column.
using Labels = Eigen::Matrix<int, 1, Eigen::Dynamic>;
using LabelsRef = Eigen::Ref<const Labels>;

/// A contiguous range of the parameter arena: [offset, offset + size), holding a column-major
/// matrix of `rows` rows when it is one (0 otherwise).
struct Segment {
  Index offset = 0;
  Index size = 0;
  Index rows = 0;
};

}  // namespace latent

#endif  // LATENT_CORE_TYPES_HPP
