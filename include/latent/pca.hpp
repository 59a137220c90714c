#ifndef LATENT_PCA_HPP
#define LATENT_PCA_HPP

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include "latent/core/random.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"

namespace latent {

/// How Pca finds its components.
enum class PcaSolver {
  /// Eigendecomposition of the d x d covariance, accumulated over blocks of centred columns:
  /// exact, and cheap while d is in the low thousands whatever n is.
  exact,
  /// Randomised SVD (Halko, Martinsson and Tropp, 2011): a Gaussian sketch of width
  /// l = k + oversampling, refined by q power iterations, then the exact solution within it.
  /// Each iteration applies M M^T, M the centred data, either as two passes over the data
  /// (about (2q + 3) n d l multiply-adds in all, the covariance never formed) or through the
  /// d x d covariance formed once (n d^2 / 2, then (q + 2) d^2 l): whichever costs fewer, so
  /// the covariance when d is below about 2 (2q + 3) l. Both find the same subspace.
  randomized,
  /// exact up to d = 2000, randomized above.
  automatic,
};

/// Options of Pca.
struct PcaOptions {
  Index components = 2;                     ///< k, in [1, min(d, n)] at fit
  PcaSolver solver = PcaSolver::automatic;  ///< see PcaSolver
  Index oversampling = 10;                  ///< randomized: sketch width is k + oversampling
  Index power_iterations = 4;               ///< randomized: q >= 0
  std::uint64_t seed = 0;                   ///< randomized: seed of the sketch's generator

  void check() const {
    if (components <= 0)
      throw std::invalid_argument("latent::Pca: 'components' must be positive, got " +
                                  std::to_string(components));
    if (oversampling < 0 || power_iterations < 0)
      throw std::invalid_argument(
          "latent::Pca: 'oversampling' and 'power_iterations' must be non-negative");
  }
};

/// Principal component analysis on data with one sample per column (d x n):
/// transform(x) = W^T (x - mean), inverse_transform(c) = W c + mean, with W (d x k) the top-k
/// eigenvectors of the covariance (1 / (n - 1)) sum (x - mean)(x - mean)^T, orthonormal columns
/// in decreasing order of variance. Each component's sign is fixed so that its entry of largest
/// magnitude is positive: the same data gives the same components.
///
///   Pca<float> pca(PcaOptions{32});
///   pca.fit(train);                            // 784 x 60000
///   Matrix<float> codes = pca.transform(test); // 32 x 10000
///   float error = pca.reconstruction_error(test);
///
/// fit compiles Eigen's eigensolver and QR, some seconds of compile time per translation unit. A
/// program whose several files use Pca can pay them once: `template class latent::Pca<float>;`
/// in one file, `extern template class latent::Pca<float>;` in the others.
template <class S>
class Pca {
 public:
  using Scalar = S;

  explicit Pca(PcaOptions options = {}) : options_(options) { options_.check(); }
  explicit Pca(Index components) : Pca(PcaOptions{components}) {}

  /// In: X (d x n), n >= 2, finite. Replaces any earlier fit.
  Pca& fit(const ConstMatrixRef<S>& X) {
    detail::check_data(X, X.rows(), "latent::Pca::fit");
    const Index d = X.rows(), n = X.cols(), k = options_.components;
    if (n < 2) throw std::invalid_argument("latent::Pca::fit: needs at least 2 samples");
    if (k > std::min(d, n))
      throw std::invalid_argument("latent::Pca::fit: 'components' is " + std::to_string(k) +
                                  " but the data allows at most min(d, n) = " +
                                  std::to_string(std::min(d, n)));
    mean_ = X.rowwise().mean();
    const bool exact = options_.solver == PcaSolver::exact ||
                       (options_.solver == PcaSolver::automatic && d <= 2000);
    if (exact) fit_exact(X);
    else fit_randomized(X);
    fix_signs();
    return *this;
  }

  bool fitted() const noexcept { return components_.size() > 0; }
  /// d, once fitted.
  Index input_size() const { return require_fit(mean_).size(); }
  Index components_count() const noexcept { return options_.components; }
  const PcaOptions& options() const noexcept { return options_; }

  /// W: d x k, orthonormal columns, largest variance first.
  const Matrix<S>& components() const { return require_fit(components_); }
  const Vector<S>& mean() const { return require_fit(mean_); }
  /// Variance of the data along each component (eigenvalues of the covariance), k values.
  const Vector<S>& explained_variance() const { return require_fit(variance_); }
  /// explained_variance / total variance of the data.
  Vector<S> explained_variance_ratio() const {
    return require_fit(variance_) / total_variance_;
  }

  /// Codes of X (d x n): k x n.
  Matrix<S> transform(const ConstMatrixRef<S>& X) const {
    detail::check_data(X, input_size(), "latent::Pca::transform", true);
    return components().transpose() * (X.colwise() - mean_);
  }
  /// Points in data space for codes (k x n): d x n.
  Matrix<S> inverse_transform(const ConstMatrixRef<S>& codes) const {
    detail::check_data(codes, components().cols(), "latent::Pca::inverse_transform", true);
    return (components() * codes).colwise() + mean_;
  }
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) const { return inverse_transform(transform(X)); }

  /// Mean over samples of the squared reconstruction error ||x - reconstruct(x)||^2, the
  /// reduction of MeanSquaredError.
  S reconstruction_error(const ConstMatrixRef<S>& X) const {
    detail::check_data(X, input_size(), "latent::Pca::reconstruction_error");
    double total = 0.0;
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      total += static_cast<double>(
          (reconstruct(X.middleCols(start, count)) - X.middleCols(start, count)).squaredNorm());
    });
    return static_cast<S>(total / static_cast<double>(X.cols()));
  }

 private:
  template <class T>
  const T& require_fit(const T& value) const {
    if (!fitted()) throw std::logic_error("latent::Pca: call fit() first");
    return value;
  }

  // Defined below the class, so not inline: an `extern template` declaration then keeps them
  // (and the solvers they instantiate) out of the translation units that see it.
  Matrix<S> covariance(const ConstMatrixRef<S>& X) const;
  void fit_exact(const ConstMatrixRef<S>& X);
  void fit_randomized(const ConstMatrixRef<S>& X);
  void fit_sketch_from_covariance(const ConstMatrixRef<S>& X, const Matrix<S>& omega);
  void fit_sketch_from_data(const ConstMatrixRef<S>& X, const Matrix<S>& omega);
  Matrix<S> apply_centred_transpose(const ConstMatrixRef<S>& X, const Matrix<S>& Y) const;
  Matrix<S> apply_centred(const ConstMatrixRef<S>& X, const Matrix<S>& Z) const;
  static Matrix<S> orthonormal(const Matrix<S>& A);
  struct Eigenpairs {
    Matrix<double> vectors;  // one column per eigenvalue
    Vector<double> values;
  };
  static Eigenpairs top_eigenpairs(const Matrix<double>& symmetric, Index k);

  void fix_signs() {
    for (Index j = 0; j < components_.cols(); ++j) {
      Index top = 0;
      components_.col(j).cwiseAbs().maxCoeff(&top);
      if (components_(top, j) < S(0)) components_.col(j) *= S(-1);
    }
  }

  PcaOptions options_;
  Vector<S> mean_;
  Matrix<S> components_;
  Vector<S> variance_;
  S total_variance_ = S(0);
};

// (1 / (n - 1)) sum of (x - mean)(x - mean)^T, lower triangle only (a symmetric rank update),
// accumulated over blocks of columns so that the centred data is never held whole.
template <class S>
Matrix<S> Pca<S>::covariance(const ConstMatrixRef<S>& X) const {
  const Index d = X.rows(), n = X.cols();
  Matrix<S> sum = Matrix<S>::Zero(d, d);
  Matrix<S> centred;
  constexpr Index block = 4096;
  for (Index start = 0; start < n; start += block) {
    const Index count = std::min(block, n - start);
    centred = X.middleCols(start, count).colwise() - mean_;
    sum.template selfadjointView<Eigen::Lower>().rankUpdate(centred);
  }
  return sum / static_cast<S>(n - 1);
}

template <class S>
void Pca<S>::fit_exact(const ConstMatrixRef<S>& X) {
  const Index k = options_.components;
  const Matrix<S> C = covariance(X);
  const Eigenpairs top = top_eigenpairs(C.template cast<double>(), k);
  components_ = top.vectors.template cast<S>();
  variance_ = top.values.template cast<S>();
  total_variance_ = C.diagonal().sum();
}

// The k largest eigenvalues of a symmetric matrix (its lower triangle), largest first, with
// their eigenvectors; rounding's tiny negative eigenvalues of a semidefinite one read as 0. In
// double whatever S: float data gains the digits, and Pca<float> and Pca<double> share one
// eigensolver, which is most of what Pca costs to compile.
template <class S>
typename Pca<S>::Eigenpairs Pca<S>::top_eigenpairs(const Matrix<double>& symmetric, Index k) {
  const Eigen::SelfAdjointEigenSolver<Matrix<double>> solver(symmetric);
  if (solver.info() != Eigen::Success)
    throw std::runtime_error("latent::Pca::fit: the eigendecomposition did not converge");
  // Eigen sorts them increasing: the last k, reversed.
  return {solver.eigenvectors().rightCols(k).rowwise().reverse(),
          solver.eigenvalues().tail(k).reverse().cwiseMax(0.0)};
}

template <class S>
void Pca<S>::fit_randomized(const ConstMatrixRef<S>& X) {
  const Index d = X.rows(), n = X.cols(), q = options_.power_iterations;
  const Index width = std::min(options_.components + options_.oversampling, std::min(d, n));
  Rng rng(options_.seed);
  Matrix<S> omega(d, width);
  fill_normal(omega, 0.0, 1.0, rng);
  // Multiply-adds of each route (see PcaSolver::randomized), in double: n d^2 overflows Index
  // long before it overflows memory.
  const double dd = static_cast<double>(d), nn = static_cast<double>(n),
               ll = static_cast<double>(width), qq = static_cast<double>(q);
  if (nn * dd * dd / 2 + (qq + 2) * dd * dd * ll < (2 * qq + 3) * nn * dd * ll)
    fit_sketch_from_covariance(X, omega);
  else
    fit_sketch_from_data(X, omega);
}

// The basis Q (d x l) of span((M M^T)^(q+1) omega) with M M^T = (n - 1) C, then the exact
// solution within it: the eigenvectors U of Q^T C Q (l x l, in double) give the components Q U.
template <class S>
void Pca<S>::fit_sketch_from_covariance(const ConstMatrixRef<S>& X, const Matrix<S>& omega) {
  const Index k = options_.components;
  const Matrix<S> C = covariance(X);
  const auto symmetric = C.template selfadjointView<Eigen::Lower>();
  Matrix<S> basis = orthonormal(symmetric * omega);
  for (Index q = 0; q < options_.power_iterations; ++q) basis = orthonormal(symmetric * basis);
  const Matrix<S> projected = basis.transpose() * (symmetric * basis);
  const Eigenpairs top = top_eigenpairs(projected.template cast<double>(), k);
  components_ = (basis.template cast<double>() * top.vectors).template cast<S>();
  variance_ = top.values.template cast<S>();
  total_variance_ = C.diagonal().sum();
}

// The same subspace from passes over the data: a basis of the range of M^T (n x l) refined by
// power iterations, M = X - mean 1^T applied through X and a rank-one correction so that it is
// never formed.
template <class S>
void Pca<S>::fit_sketch_from_data(const ConstMatrixRef<S>& X, const Matrix<S>& omega) {
  const Index n = X.cols(), k = options_.components;
  Matrix<S> basis = orthonormal(apply_centred_transpose(X, omega));  // n x l
  for (Index q = 0; q < options_.power_iterations; ++q) {
    Matrix<S> projected = orthonormal(apply_centred(X, basis));  // d x l
    basis = orthonormal(apply_centred_transpose(X, projected));
  }
  // B = basis^T M^T (l x d) = U Sigma V^T; the components are V's first k columns. With
  // B B^T = U Sigma^2 U^T (l x l, in double), V = B^T U Sigma^-1: the orthonormalised
  // columns of B^T U, which also stay orthonormal where Sigma has zeros (data of rank < k).
  const Matrix<double> small = apply_centred(X, basis).transpose().template cast<double>();
  const Eigenpairs top = top_eigenpairs(small * small.transpose(), k);
  components_ = orthonormal((small.transpose() * top.vectors).template cast<S>());
  const double scale = 1.0 / static_cast<double>(n - 1);
  variance_ = (top.values * scale).template cast<S>();
  double sum = 0.0;
  detail::for_each_column_block(n, [&](Index start, Index count) {
    sum += static_cast<double>((X.middleCols(start, count).colwise() - mean_).squaredNorm());
  });
  total_variance_ = static_cast<S>(sum * scale);
}

// M^T Y = X^T Y - 1 (mean^T Y): n x width.
template <class S>
Matrix<S> Pca<S>::apply_centred_transpose(const ConstMatrixRef<S>& X, const Matrix<S>& Y) const {
  Matrix<S> out = X.transpose() * Y;
  out.rowwise() -= mean_.transpose() * Y;
  return out;
}

// M Z = X Z - mean (1^T Z): d x width.
template <class S>
Matrix<S> Pca<S>::apply_centred(const ConstMatrixRef<S>& X, const Matrix<S>& Z) const {
  Matrix<S> out = X * Z;
  out -= mean_ * Z.colwise().sum();
  return out;
}

template <class S>
Matrix<S> Pca<S>::orthonormal(const Matrix<S>& A) {
  Eigen::HouseholderQR<Matrix<S>> qr(A);
  return qr.householderQ() * Matrix<S>::Identity(A.rows(), A.cols());
}

}  // namespace latent

#endif  // LATENT_PCA_HPP
