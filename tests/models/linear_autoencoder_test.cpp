// A linear autoencoder (Identity activations, MeanSquaredError, a k-dimensional code) trained
// with fit learns PCA: its reconstruction error reaches PCA's, and its decoder's column space
// is PCA's top-k subspace (Baldi and Hornik, 1989). This file has no header of its own: it
// tests Autoencoder, fit and Pca together.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <catch2/catch.hpp>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/schedules.hpp>
#include <latent/train/fit.hpp>

#include "support/data.hpp"
#include "support/linear_algebra.hpp"
#include "support/pca.hpp"

namespace {

using latent::Index;

template <class S>
using Matrix = latent::Matrix<S>;

/// The largest principal angle between the column spaces of A and B (both d x k, full rank):
/// with Q1, Q2 orthonormal bases, the singular values of Q1^T Q2 are the cosines of the angles.
template <class S>
double largest_principal_angle(const Matrix<S>& A, const Matrix<S>& B) {
  using latent::testing::orthonormal_basis;
  const Matrix<double> Q1 = orthonormal_basis(A.template cast<double>());
  const Matrix<double> Q2 = orthonormal_basis(B.template cast<double>());
  const double cosine = latent::testing::thin_svd(Q1.transpose() * Q2).singular_values.minCoeff();
  return std::acos(std::min(1.0, cosine));
}

/// d x n: a k-dimensional structure (spreads 3, 2, 1.5 along random directions) around a mean
/// in [-1, 1]^d, plus isotropic noise of deviation `noise`.
template <class S>
Matrix<S> structured_data(Index d, Index n, Index k, double noise, std::uint64_t seed) {
  latent::Rng rng(seed);
  Matrix<S> B(d, k), C(k, n), E(d, n);
  latent::fill_normal(B, 0.0, 1.0, rng);
  latent::fill_normal(C, 0.0, 1.0, rng);
  latent::fill_normal(E, 0.0, noise, rng);
  const S spreads[] = {S(3), S(2), S(1.5)};
  for (Index i = 0; i < k; ++i) C.row(i) *= spreads[i % 3];
  Matrix<S> X = B * C + E;
  X.colwise() += latent::testing::uniform_matrix<S>(d, 1, seed + 1).col(0);
  return X;
}

}  // namespace

TEMPLATE_TEST_CASE("A linear autoencoder trained with fit reaches PCA's error and subspace",
                   "[linear][pca][training]", float, double) {
  using S = TestType;
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  // d = 20, k = 3, n = 1000, noise 0.7 (per coordinate, against a structure of variance 15);
  // Adam(0.1) with cosine annealing to 1e-3 over 15 epochs of batches of 32 (480 steps).
  // Measured (float and double alike), seeds 1, 2, 3: error / PCA's error = 1.0004, 1.0021,
  // 1.0016 (PCA's error about 8.3, the noise's 17 * 0.49); largest principal angle 0.0047,
  // 0.0052, 0.0038 rad.
  const Index d = 20, k = 3, n = 1000;
  const Matrix<S> X = structured_data<S>(d, n, k, 0.7, seed);

  latent::Pca<S> pca(latent::PcaOptions{k});
  pca.fit(X);
  const double pca_error = static_cast<double>(pca.reconstruction_error(X));

  latent::Rng rng(seed + 10);
  latent::Autoencoder model(latent::Sequential{latent::Dense<S, latent::Identity>(d, k)},
                            latent::Sequential{latent::Dense<S, latent::Identity>(k, d)}, rng);
  latent::Adam<S> adam(0.1);
  latent::FitOptions options;
  options.epochs = 15;
  options.batch_size = 32;
  latent::CosineAnnealing schedule(15, 1e-3);
  latent::fit(model, adam, X, options, rng, schedule);

  const double error = static_cast<double>(model.loss(X));
  const Matrix<S> decoder_weight = model.decoder().last().weight(model.parameters().data());  // d x k
  const double angle = largest_principal_angle<S>(decoder_weight, pca.components());
  INFO("autoencoder error " << error << ", PCA error " << pca_error << ", ratio "
                            << error / pca_error << ", largest angle " << angle);
  // PCA is the optimum of every rank-k linear reconstruction with a bias on the training data:
  // the autoencoder can only come close from above.
  CHECK(error >= pca_error * (1.0 - 1e-4));
  CHECK(error <= pca_error * 1.02);
  CHECK(angle < 0.05);
}
