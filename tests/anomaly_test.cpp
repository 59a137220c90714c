#include <latent/anomaly.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

#include <latent/latent.hpp>

#include "support/data.hpp"
#include "support/pca.hpp"

// One-class detection where the answer is known: normal points lie near a 2-dimensional
// subspace of R^10, anomalies anywhere in the cube. A model of the normal data reconstructs
// the first well and the second badly.

namespace {

using namespace latent;

// n points X = A z + noise, A 10 x 2 and z uniform in [-1, 1]^2, noise uniform +-0.02.
Matrix<double> normal_points(Index n, std::uint64_t seed) {
  const Matrix<double> A = testing::uniform_matrix<double>(10, 2, 1);
  return A * testing::uniform_matrix<double>(2, n, seed) +
         testing::uniform_matrix<double>(10, n, seed + 1, -0.02, 0.02);
}

// Normal points followed by as many anomalies, with their labels (1 = anomaly).
std::pair<Matrix<double>, Labels> mixed_points(Index n, std::uint64_t seed) {
  Matrix<double> X(10, 2 * n);
  X << normal_points(n, seed), testing::uniform_matrix<double>(10, n, seed + 2);
  Labels truth(2 * n);
  truth << Labels::Zero(n), Labels::Ones(n);
  return {X, truth};
}

}  // namespace

TEST_CASE("Reconstruction error separates points off the normal subspace: PCA and an autoencoder",
          "[anomaly]") {
  const Matrix<double> train = normal_points(500, 10);
  const auto [X, truth] = mixed_points(200, 20);

  Pca<double> pca(2);
  pca.fit(train);
  AnomalyDetector by_pca(reconstruction_error(pca));
  CHECK(roc_auc(by_pca.score(X), truth) > 0.99);

  Rng rng(3);
  Autoencoder model(Sequential{Dense<double, Tanh>(10, 6), Dense<double>(6, 2)},
                    Sequential{Dense<double, Tanh>(2, 6), Dense<double>(6, 10)}, rng);
  Adam<double> adam(1e-2);
  FitOptions options;
  options.epochs = 60;
  fit(model, adam, train, options, rng);
  AnomalyDetector by_autoencoder(reconstruction_error(model));
  const double auc = roc_auc(by_autoencoder.score(X), truth);
  INFO("autoencoder AUC " << auc);
  CHECK(auc > 0.99);
}

namespace {
// A stand-in model whose reconstruction of every sample is the same column r.
struct Constant {
  Matrix<double> r;
  Matrix<double> reconstruct(const ConstMatrixRef<double>& X) const { return r.replicate(1, X.cols()); }
};
}  // namespace

TEST_CASE("reconstruction_cross_entropy sums each sample's binary cross-entropy", "[anomaly]") {
  Constant model{(Matrix<double>(3, 1) << 0.9, 0.2, 0.5).finished()};
  Matrix<double> X(3, 2);
  X << 1.0, 0.0,
       0.0, 1.0,
       0.5, 0.0;
  const Eigen::RowVectorXd scores = reconstruction_cross_entropy(model)(X);
  REQUIRE(scores.size() == 2);
  // -[log 0.9 + log 0.8 + 0.5 log 0.5 + 0.5 log 0.5] and -[log 0.1 + log 0.2 + log 0.5].
  CHECK_THAT(scores(0), Catch::Matchers::WithinRel(-(std::log(0.9) + std::log(0.8) + std::log(0.5)), 1e-12));
  CHECK_THAT(scores(1), Catch::Matchers::WithinRel(-(std::log(0.1) + std::log(0.2) + std::log(0.5)), 1e-12));

  SECTION("a reconstruction of exactly 0 or 1 costs 100 nats, not infinity") {
    Constant certain{(Matrix<double>(3, 1) << 1.0, 0.0, 0.5).finished()};
    const Eigen::RowVectorXd wrong = reconstruction_cross_entropy(certain)(X);
    CHECK_THAT(wrong(1), Catch::Matchers::WithinRel(200.0 - std::log(0.5), 1e-12));
  }
  SECTION("data outside [0, 1] is refused") {
    X(2, 1) = 1.5;
    CHECK_THROWS_WITH(reconstruction_cross_entropy(model)(X),
                      Catch::Matchers::Contains("latent::reconstruction_cross_entropy") &&
                          Catch::Matchers::Contains("[0, 1]"));
  }
}

TEST_CASE("fit puts the threshold at a quantile of normal scores", "[anomaly]") {
  Pca<double> pca(2);
  pca.fit(normal_points(500, 10));
  AnomalyDetector detector(reconstruction_error(pca));
  CHECK(std::isnan(detector.threshold()));
  CHECK_THROWS_AS(detector.predict(normal_points(5, 1)), std::logic_error);

  detector.fit(normal_points(2001, 30), 0.95);
  // Fresh normal data: about 5% flagged (2,000 draws: standard error 0.5%).
  const double flagged = detector.predict(normal_points(2000, 40)).cast<double>().mean();
  CHECK(flagged > 0.03);
  CHECK(flagged < 0.07);
  // On its own data with 2,001 points the 0.95 quantile is exactly the 1,901st smallest score.
  const Matrix<double> same = normal_points(2001, 30);
  CHECK(detector.predict(same).sum() == 100);

  detector.fit(same, 1.0);
  CHECK(detector.predict(same).sum() == 0);  // the largest score is not above itself
  CHECK_THROWS_AS(detector.fit(same, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(detector.fit(same, 1.5), std::invalid_argument);
}

TEST_CASE("fit_best_f1 finds the threshold that separates the classes when one exists",
          "[anomaly]") {
  // An identity "model" would score 0; a constant score per column is easier to reason about.
  const auto first_row = [](const auto& X) -> Eigen::RowVectorXd { return X.row(0).template cast<double>(); };
  AnomalyDetector detector(first_row);
  Matrix<double> X(1, 6);
  X << 0.1, 0.5, 0.2, 0.9, 0.7, 0.3;
  const Labels truth = (Labels(6) << 0, 1, 0, 1, 1, 0).finished();
  detector.fit_best_f1(X, truth);
  CHECK_THAT(detector.threshold(), Catch::Matchers::WithinAbs(0.4, 1e-15));  // between 0.3 and 0.5
  CHECK(detector.predict(X) == truth);

  // Overlapping classes: flag {0.9, 0.7} (F1 0.8) or all of {0.9, 0.7, 0.5, 0.3} (F1 6/7)?
  const Labels overlapping = (Labels(6) << 0, 0, 0, 1, 1, 1).finished();
  detector.fit_best_f1(X, overlapping);
  const ConfusionMatrix counts = confusion_matrix(detector.score(X), overlapping, detector.threshold());
  CHECK_THAT(counts.f1(), Catch::Matchers::WithinAbs(6.0 / 7.0, 1e-15));

  CHECK_THROWS_WITH(detector.fit_best_f1(X, Labels::Zero(6)), Catch::Contains("no anomalies"));
  CHECK_THROWS_WITH(detector.fit_best_f1(X, Labels::Zero(5)), Catch::Contains("6 samples but 5 labels"));
}

TEST_CASE("The VAE's scores: -log p(x) below -ELBO, -ELBO = -reconstruction + KL", "[anomaly][vae]") {
  Rng rng(5);
  VariationalAutoencoder vae(Sequential{Dense<double, Tanh>(10, 8)}, 2,
                             Sequential{Dense<double, Tanh>(2, 8), Dense<double>(8, 10)}, rng,
                             Gaussian(0.1));
  const Matrix<double> X = normal_points(50, 7);
  // Two engines in the same state: the ELBO and the reconstruction term see the same codes.
  Rng same_a(9), same_b(9), other(10);
  AnomalyDetector elbo(negative_elbo(vae, same_a, 20));
  AnomalyDetector reconstruction(negative_reconstruction_probability(vae, 20, same_b));
  AnomalyDetector evidence(negative_log_likelihood(vae, 50, other));
  const Eigen::RowVectorXd a = elbo.score(X), b = evidence.score(X), c = reconstruction.score(X);
  REQUIRE(a.size() == 50);
  REQUIRE(b.size() == 50);
  REQUIRE(c.size() == 50);
  CHECK(b.mean() < a.mean());              // the importance-weighted bound is the tighter one
  CHECK((c.array() <= a.array()).all());   // the difference is the KL term, >= 0
  CHECK((a - c).maxCoeff() > 0.0);
}
