#include "support/linear_algebra.hpp"

#include <Eigen/QR>
#include <Eigen/SVD>

namespace latent::testing {

ThinSvd thin_svd(const Matrix<double>& A) {
  const Eigen::BDCSVD<Matrix<double>> svd(A, Eigen::ComputeThinU);
  return {svd.matrixU(), svd.singularValues()};
}

Matrix<double> orthonormal_basis(const Matrix<double>& A) {
  const Eigen::HouseholderQR<Matrix<double>> qr(A);
  return qr.householderQ() * Matrix<double>::Identity(A.rows(), A.cols());
}

}  // namespace latent::testing
