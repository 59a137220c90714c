#ifndef LATENT_TESTS_SUPPORT_LINEAR_ALGEBRA_HPP
#define LATENT_TESTS_SUPPORT_LINEAR_ALGEBRA_HPP

// Reference decompositions the tests compare latent with, in double. Compiled once, in
// support/linear_algebra.cpp: Eigen's SVD costs a test file more compile time than its tests.

#include <latent/core/types.hpp>

namespace latent::testing {

/// The thin SVD of A (m x n): U (m x min(m, n)) and the singular values, largest first.
struct ThinSvd {
  Matrix<double> U;
  Vector<double> singular_values;
};
ThinSvd thin_svd(const Matrix<double>& A);

/// An orthonormal basis of the column space of A (m x n, rank n): Q of A's Householder QR.
Matrix<double> orthonormal_basis(const Matrix<double>& A);

}  // namespace latent::testing

#endif  // LATENT_TESTS_SUPPORT_LINEAR_ALGEBRA_HPP
