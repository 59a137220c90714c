#include <latent/models/variational.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/models/likelihood.hpp>
#include <latent/optim/adam.hpp>
#include <latent/train/fit.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

// VariationalAutoencoder: the negative ELBO and its gradient with a fixed eps for every
// likelihood, beta and weight decay; the closed-form KL against Monte Carlo; the
// importance-weighted log p(x) against a reproduction of its draws, its ordering
// ELBO <= IW_1 <= IW_10 <= IW_100 on a trained model and its stability at k = 5000; sampling,
// shapes and refusals.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;
template <class S>
using Vector = latent::Vector<S>;

const double half_log_two_pi = 0.5 * std::log(2.0 * 3.14159265358979323846);

template <class S>
using Body = latent::Sequential<latent::Dense<S, latent::Tanh>>;
template <class S, class Out>
using Decoder = latent::Sequential<latent::Dense<S, latent::Tanh>, latent::Dense<S, Out>>;

template <class S>
Body<S> make_body(Index inputs, Index hidden) {
  return Body<S>(latent::Dense<S, latent::Tanh>(inputs, hidden));
}
template <class S, class Out>
Decoder<S, Out> make_decoder(Index latent, Index hidden, Index outputs) {
  return Decoder<S, Out>(latent::Dense<S, latent::Tanh>(latent, hidden),
                         latent::Dense<S, Out>(hidden, outputs));
}

/// The const path against the workspace path: equal but for a few roundings (their GEMMs may
/// block a product differently once a workspace has held a larger batch).
template <class S>
bool same_up_to_rounding(const Matrix<S>& actual, const Matrix<S>& expected) {
  const S tolerance = 8 * std::numeric_limits<S>::epsilon();
  return actual.rows() == expected.rows() && actual.cols() == expected.cols() &&
         ((actual - expected).array().abs() <= tolerance * expected.array().abs().max(S(1))).all();
}

/// A small VAE: 5 inputs, body 5 -> 4, latent 2, decoder 2 -> 4 -> outputs.
template <class S, class Out, class... Policies>
auto small_vae(latent::Rng& rng, Index outputs, const Policies&... policies) {
  return latent::VariationalAutoencoder(make_body<S>(5, 4), 2, make_decoder<S, Out>(2, 4, outputs),
                                        rng, policies...);
}

/// Arena offsets of the two heads (after the body): mean W, mean b, log-variance W, b.
struct HeadLayout {
  Index mean_weight, mean_bias, log_variance_weight, log_variance_bias;
};
template <class Model>
HeadLayout head_layout(Model& model, Index hidden) {
  const Index body = model.body().parameter_count(), latent = model.latent_size();
  return {body, body + latent * hidden, body + latent * hidden + latent,
          body + 2 * latent * hidden + latent};
}

/// Checks train_batch_with_noise's gradient against central differences, on the whole vector
/// and separately on the encoder (body and heads) and the decoder.
template <class Model>
void check_gradient(Model& model, const Matrix<double>& X, const Matrix<double>& eps) {
  model.train_batch_with_noise(X, eps);
  const Eigen::VectorXd analytic = model.gradients();
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return model.train_batch_with_noise(X, eps); }, model.parameters());
  const Index decoder = model.decoder().parameter_count();
  const Index encoder = model.parameter_count() - decoder;
  REQUIRE(analytic.head(encoder).norm() > 1e-3);
  REQUIRE(analytic.tail(decoder).norm() > 1e-3);
  CHECK(latent::testing::relative_error(analytic, numeric) < 1e-6);
  CHECK(latent::testing::relative_error(analytic.head(encoder), numeric.head(encoder)) < 1e-6);
  CHECK(latent::testing::relative_error(analytic.tail(decoder), numeric.tail(decoder)) < 1e-6);
}

/// Mean and standard error of the entries of a row.
struct Estimate {
  double mean, standard_error;
};
Estimate estimate(const Matrix<double>& row) {
  const double n = static_cast<double>(row.size());
  const double mean = row.mean();
  const double variance = (row.array() - mean).square().sum() / (n - 1);
  return {mean, std::sqrt(variance / n)};
}

}  // namespace

TEST_CASE("The VAE's gradient with a fixed eps matches finite differences of the negative ELBO",
          "[vae][gradient]") {
  const double beta = GENERATE(1.0, 0.3, 2.5);
  const double weight_decay = GENERATE(0.0, 0.05);
  INFO("beta " << beta << ", weight decay " << weight_decay);
  latent::VaeOptions options;
  options.beta = beta;
  options.weight_decay = weight_decay;
  latent::Rng rng(7);
  const Matrix<double> eps = [&] {
    Matrix<double> e(2, 6);
    latent::fill_normal(e, 0.0, 1.0, rng);
    return e;
  }();

  SECTION("Bernoulli, logits through a Sigmoid") {
    auto vae = small_vae<double, latent::Sigmoid>(rng, 5, latent::Bernoulli{}, options);
    check_gradient(vae, uniform_matrix(5, 6, 1, 0.0, 1.0), eps);
  }
  SECTION("Gaussian of fixed variance around an Identity output") {
    auto vae = small_vae<double, latent::Identity>(rng, 5, latent::Gaussian(0.5), options);
    check_gradient(vae, uniform_matrix(5, 6, 2), eps);
  }
  SECTION("Gaussian of fixed variance around a Tanh output") {
    auto vae = small_vae<double, latent::Tanh>(rng, 5, latent::Gaussian(2.0), options);
    check_gradient(vae, uniform_matrix(5, 6, 3), eps);
  }
  SECTION("GaussianLearnedVariance") {
    auto vae = small_vae<double, latent::Identity>(rng, 10, latent::GaussianLearnedVariance{},
                                                   options);
    check_gradient(vae, uniform_matrix(5, 6, 4), eps);
  }
}

TEMPLATE_TEST_CASE("train_batch_with_noise returns the negative ELBO with beta on the KL",
                   "[vae]", float, double) {
  using S = TestType;
  const double beta = GENERATE(1.0, 2.5);
  INFO("beta " << beta);
  latent::VaeOptions options;
  options.beta = beta;
  latent::Rng rng(8);
  const Matrix<S> X = uniform_matrix<S>(5, 7, 5, 0.0, 1.0);
  Matrix<S> eps(2, 7);
  latent::fill_normal(eps, 0.0, 1.0, rng);
  const double eps_tolerance = std::is_same_v<S, float> ? 1e-5 : 1e-12;

  // mean_j [ -log p(x_j | z_j) + beta KL_j ], z = mu + exp(v / 2) eps, from encode and decode.
  auto by_hand = [&](auto& vae, auto log_p) {
    Matrix<S> mu(2, 7), v(2, 7);
    vae.encode(X, mu, v);
    const Matrix<S> z = (mu.array() + (S(0.5) * v.array()).exp() * eps.array()).matrix();
    const Matrix<double> A = vae.decode(z).template cast<double>();
    double total = 0.0;
    for (Index j = 0; j < 7; ++j) {
      double kl = 0.0;
      for (Index k = 0; k < 2; ++k) {
        const double m = mu(k, j), lv = v(k, j);
        kl += 0.5 * (m * m + std::exp(lv) - 1.0 - lv);
      }
      total += -log_p(A.col(j), j) + beta * kl;
    }
    return total / 7.0;
  };
  SECTION("Bernoulli") {
    auto vae = small_vae<S, latent::Sigmoid>(rng, 5, options);
    const double expected = by_hand(vae, [&](const auto& a, Index j) {
      double sum = 0.0;
      for (Index i = 0; i < 5; ++i) {
        const double x = static_cast<double>(X(i, j));
        sum += x * std::log(a(i)) + (1.0 - x) * std::log(1.0 - a(i));
      }
      return sum;
    });
    CHECK_THAT(static_cast<double>(vae.train_batch_with_noise(X, eps)),
               WithinRel(expected, eps_tolerance));
  }
  SECTION("Gaussian of variance 0.5") {
    auto vae = small_vae<S, latent::Identity>(rng, 5, latent::Gaussian(0.5), options);
    const double expected = by_hand(vae, [&](const auto& a, Index j) {
      double sum = 0.0;
      for (Index i = 0; i < 5; ++i) {
        const double r = static_cast<double>(X(i, j)) - a(i);
        sum += -r * r / (2 * 0.5) - 0.5 * std::log(2 * 3.14159265358979323846 * 0.5);
      }
      return sum;
    });
    CHECK_THAT(static_cast<double>(vae.train_batch_with_noise(X, eps)),
               WithinRel(expected, eps_tolerance));
  }
}

TEST_CASE("The VAE's weight decay adds (lambda / 2) |W|^2 over every weight matrix, not the biases",
          "[vae]") {
  latent::VaeOptions decayed_options;
  decayed_options.weight_decay = 0.2;
  latent::Rng rng(9);
  auto plain = small_vae<double, latent::Sigmoid>(rng, 5);
  auto decayed = small_vae<double, latent::Sigmoid>(rng, 5, decayed_options);
  decayed.parameters() = plain.parameters() = uniform_matrix(plain.parameter_count(), 1, 10);
  const Matrix<double> X = uniform_matrix(5, 4, 11, 0.0, 1.0);
  const Matrix<double> eps = uniform_matrix(2, 4, 12);

  // Layout: body W 4x5 [0, 20), b [20, 24); mean head W 2x4 [24, 32), b [32, 34); log-variance
  // head W [34, 42), b [42, 44); decoder W 4x2 [44, 52), b [52, 56), W 5x4 [56, 76), b [76, 81).
  REQUIRE(plain.parameter_count() == 81);
  const HeadLayout heads = head_layout(plain, 4);
  REQUIRE(heads.mean_weight == 24);
  REQUIRE(heads.log_variance_bias == 42);
  const Eigen::VectorXd& p = plain.parameters();
  const double squares = p.segment(0, 20).squaredNorm() + p.segment(24, 8).squaredNorm() +
                         p.segment(34, 8).squaredNorm() + p.segment(44, 8).squaredNorm() +
                         p.segment(56, 20).squaredNorm();
  const double difference =
      decayed.train_batch_with_noise(X, eps) - plain.train_batch_with_noise(X, eps);
  CHECK_THAT(difference, WithinRel(0.1 * squares, 1e-12));
  const Eigen::VectorXd gradient_difference = decayed.gradients() - plain.gradients();
  for (const Index bias : {20, 32, 42, 52, 76}) CHECK(gradient_difference(bias) == 0.0);
  CHECK_THAT(gradient_difference(0), WithinRel(0.2 * p(0), 1e-10));
  CHECK_THAT(gradient_difference(60), WithinRel(0.2 * p(60), 1e-10));
}

TEMPLATE_TEST_CASE("train_batch draws eps from the engine: the same as train_batch_with_noise",
                   "[vae]", float, double) {
  using S = TestType;
  latent::Rng rng(13);
  auto vae = small_vae<S, latent::Sigmoid>(rng, 5);
  const Matrix<S> X = uniform_matrix<S>(5, 6, 14, 0.0, 1.0);
  latent::Rng engine(15), copy(15);
  const S objective = vae.train_batch(X, engine);
  const Vector<S> gradient = vae.gradients();
  Matrix<S> eps(2, 6);
  latent::fill_normal(eps, 0.0, 1.0, copy);
  CHECK(vae.train_batch_with_noise(X, eps) == objective);
  CHECK(vae.gradients() == gradient);
  CHECK(engine == copy);
  // Another draw, another objective.
  CHECK(vae.train_batch(X, engine) != objective);
}

TEMPLATE_TEST_CASE("The VAE's loss is minus the mean ELBO of one draw from the seed", "[vae]",
                   float, double) {
  using S = TestType;
  latent::Rng rng(16);
  auto vae = small_vae<S, latent::Sigmoid>(rng, 5);
  const Matrix<S> X = uniform_matrix<S>(5, 9, 17, 0.0, 1.0);
  latent::Rng seeded(21);
  CHECK(vae.loss(X, 21) == -static_cast<S>(vae.elbo(X, seeded).mean()));
  CHECK(vae.loss(X, 21) == vae.loss(X, 21));
  CHECK(vae.loss(X, 21) != vae.loss(X, 22));
}

TEST_CASE("The closed-form KL equals a Monte Carlo estimate of E_q[log q(z|x) - log p(z)]",
          "[vae][kl]") {
  latent::Rng rng(18);
  auto vae = latent::VariationalAutoencoder(make_body<double>(5, 4), 3,
                                            make_decoder<double, latent::Sigmoid>(3, 4, 5), rng);
  // Move q away from the prior so that every term of the KL counts.
  const HeadLayout heads = head_layout(vae, 4);
  vae.parameters().segment(heads.mean_bias, 3) << 1.0, -0.5, 0.3;
  vae.parameters().segment(heads.log_variance_bias, 3) << -1.0, 0.5, -0.2;
  const Matrix<double> x = uniform_matrix(5, 1, 19, 0.0, 1.0);
  Matrix<double> mu(3, 1), v(3, 1);
  vae.encode(x, mu, v);
  const double closed = 0.5 * (mu.array().square() + v.array().exp() - 1.0 - v.array()).sum();
  REQUIRE(closed > 0.3);

  // log q(z|x) - log p(z) for z = mu + exp(v / 2) eps: sum_k [-v_k / 2 - eps_k^2 / 2 + z_k^2 / 2].
  const Index draws = 50000;
  Matrix<double> eps(3, draws);
  latent::fill_normal(eps, 0.0, 1.0, rng);
  const Matrix<double> z =
      ((eps.array().colwise() * (0.5 * v.col(0).array()).exp()).colwise() + mu.col(0).array()).matrix();
  const Matrix<double> log_ratio =
      (0.5 * (z.array().square() - eps.array().square())).colwise().sum() - 0.5 * v.sum();
  const Estimate monte_carlo = estimate(log_ratio);
  INFO("closed form " << closed << ", Monte Carlo " << monte_carlo.mean << " +- "
                      << monte_carlo.standard_error);
  // Why 4 standard errors: the issue asks for agreement "within its standard error", read here
  // as within a few of them. The estimate is a mean of 50000 draws, so its error is close to
  // normal with that standard deviation, and a band of 1 standard error would fail for about
  // a third of seeds (P(|Z| > 1) = 0.32); at 4 it fails for 6 seeds in 10^5. The seed is fixed,
  // so the outcome is too. Measured: 4 standard errors are 0.021 (1.1% of the KL, 1.93); the
  // gap is 0.001.
  CHECK(std::abs(monte_carlo.mean - closed) < 4.0 * monte_carlo.standard_error);

  // The model's own KL: reconstruction probability minus ELBO with the same draws.
  latent::Rng a(20), b(20);
  const double model_kl = vae.reconstruction_probability(x, 5, a)(0, 0) - vae.elbo(x, b, 5)(0, 0);
  CHECK_THAT(model_kl, WithinRel(closed, 1e-12));

  // The model's log p(z) - log q(z|x): log_likelihood with k = 1 minus the reconstruction
  // probability with the same draws, one draw per column of 1000 copies of x.
  const Matrix<double> X = x.replicate(1, 1000);
  latent::Rng c(23), d(23);
  const Estimate model = estimate(vae.log_likelihood(X, 1, c) - vae.reconstruction_probability(X, 1, d));
  INFO("model's estimate " << -model.mean << " +- " << model.standard_error);
  CHECK(std::abs(-model.mean - closed) < 4.0 * model.standard_error);  // 4: as above
}

TEST_CASE("log_likelihood is the log-mean-exp of the importance weights of its draws",
          "[vae][iw]") {
  // Reproduces the draws: for one column, eps is a latent x k fill_normal from the engine.
  const Index k = GENERATE(1, 2, 3);
  INFO("k " << k);
  latent::Rng rng(24);
  auto vae = small_vae<double, latent::Sigmoid>(rng, 5);
  const Matrix<double> x = uniform_matrix(5, 1, 25, 0.0, 1.0);
  Matrix<double> mu(2, 1), v(2, 1);
  vae.encode(x, mu, v);
  latent::Rng engine(26);
  Matrix<double> eps(2, k);
  latent::fill_normal(eps, 0.0, 1.0, engine);
  const Matrix<double> z =
      ((eps.array().colwise() * (0.5 * v.col(0).array()).exp()).colwise() + mu.col(0).array()).matrix();
  const Matrix<double> A = vae.decode(z);
  double sum = 0.0;
  for (Index i = 0; i < k; ++i) {
    double log_px = 0.0;
    for (Index p = 0; p < 5; ++p)
      log_px += x(p, 0) * std::log(A(p, i)) + (1.0 - x(p, 0)) * std::log(1.0 - A(p, i));
    const double log_pz = -0.5 * z.col(i).squaredNorm() - 2 * half_log_two_pi;
    const double log_qz = -0.5 * eps.col(i).squaredNorm() - 0.5 * v.sum() - 2 * half_log_two_pi;
    sum += std::exp(log_px + log_pz - log_qz);
  }
  latent::Rng same(26);
  CHECK_THAT(vae.log_likelihood(x, k, same)(0, 0),
             WithinRel(std::log(sum / static_cast<double>(k)), 1e-12));
}

TEST_CASE("On a trained VAE the importance-weighted estimate grows from the ELBO with k",
          "[vae][iw][training]") {
  // 300 samples of 4 dimensions, tanh of 2 latent factors plus noise 0.1; a Gaussian decoder of
  // variance 0.003 (sharper than the data: the posteriors are narrow and q misses them, so the
  // bounds are far apart); 15 epochs of Adam(0.01). 50 training points, each repeated so that
  // every k averages many estimates: k = 1 and 10 x 16, k = 100 x 8. Measured: ELBO -14.77,
  // IW_1 -14.44, IW_10 -5.23, IW_100 -4.70; per-sample standard errors of the differences
  // 0.71 (IW_10 - IW_1) and 0.074 (IW_100 - IW_10), so each step is over 7 of them.
  const Index d = 4, n = 300, m = 50;
  latent::Rng data_rng(2);
  Matrix<double> W(d, 2), Z(2, n), noise(d, n);
  latent::fill_normal(W, 0.0, 1.0, data_rng);
  latent::fill_normal(Z, 0.0, 1.0, data_rng);
  latent::fill_normal(noise, 0.0, 0.1, data_rng);
  const Matrix<double> X = (W * Z).array().tanh().matrix() + noise;

  latent::Rng rng(3);
  latent::VariationalAutoencoder vae(make_body<double>(d, 8), 2,
                                     make_decoder<double, latent::Identity>(2, 8, d), rng,
                                     latent::Gaussian(0.003));
  latent::Adam<double> adam(0.01);
  latent::FitOptions options;
  options.epochs = 15;
  options.batch_size = 32;
  latent::fit(vae, adam, X, options, rng);

  const Matrix<double> batch = X.leftCols(m);
  // The mean over r estimates of each sample's IW_k: 1 x m.
  auto importance_weighted = [&](Index k, Index r, std::uint64_t seed) {
    Matrix<double> repeated(d, m * r);
    for (Index j = 0; j < m; ++j) repeated.middleCols(j * r, r) = batch.col(j).replicate(1, r);
    latent::Rng engine(seed);
    const Matrix<double> all = vae.log_likelihood(repeated, k, engine);
    Matrix<double> out(1, m);
    for (Index j = 0; j < m; ++j) out(0, j) = all.middleCols(j * r, r).mean();
    return out;
  };
  latent::Rng engine(4);
  const Matrix<double> elbo = vae.elbo(batch, engine, 10);
  const Matrix<double> iw1 = importance_weighted(1, 16, 11);
  const Matrix<double> iw10 = importance_weighted(10, 16, 12);
  const Matrix<double> iw100 = importance_weighted(100, 8, 13);
  const Estimate first = estimate(iw1 - elbo), second = estimate(iw10 - iw1),
                 third = estimate(iw100 - iw10);
  INFO("ELBO " << elbo.mean() << ", IW_1 " << iw1.mean() << ", IW_10 " << iw10.mean()
               << ", IW_100 " << iw100.mean() << "; standard errors " << first.standard_error
               << ", " << second.standard_error << ", " << third.standard_error);
  // k = 1 is the ELBO in expectation; then each k is at least the one before.
  CHECK(std::abs(first.mean) < 4.0 * first.standard_error);
  CHECK(iw10.mean() > elbo.mean());
  CHECK(iw10.mean() > iw1.mean());
  CHECK(iw100.mean() > iw10.mean());

  // No SECTIONs below: each would train the model again.
  // k = 5000 stays finite and above the ELBO.
  latent::Rng e(14);
  const Matrix<double> iw5000 = vae.log_likelihood(batch.leftCols(2), 5000, e);
  CHECK(iw5000.allFinite());
  CHECK((iw5000.array() > elbo.leftCols(2).array()).all());
  // The reconstruction probability flags points unlike the data.
  Matrix<double> outliers(d, m);
  latent::fill_normal(outliers, 0.0, 2.0, data_rng);
  latent::Rng a(15), b(16);
  CHECK(vae.reconstruction_probability(outliers, 10, a).mean() + 10.0 <
        vae.reconstruction_probability(batch, 10, b).mean());
}

TEMPLATE_TEST_CASE("log_likelihood with k = 5000 stays finite where the weights underflow",
                   "[vae][iw]", float, double) {
  using S = TestType;
  // A Gaussian decoder of variance 1e-4 and data far from its outputs: log p(x | z) is about
  // -10^5, whose exp is 0 in any floating type; the running log-sum-exp keeps the estimate.
  latent::Rng rng(27);
  auto vae = small_vae<S, latent::Identity>(rng, 5, latent::Gaussian(1e-4));
  const Matrix<S> X = uniform_matrix<S>(5, 2, 28, 5.0, 6.0);
  latent::Rng a(29), b(30);
  const Matrix<S> elbo = vae.elbo(X, a, 10);
  REQUIRE(elbo.maxCoeff() < S(-1e4));
  const Matrix<S> iw = vae.log_likelihood(X, 5000, b);
  CHECK(iw.allFinite());
  CHECK((iw.array() >= elbo.array()).all());
}

TEMPLATE_TEST_CASE("The VAE's sampling and inference give the documented shapes", "[vae]", float,
                   double) {
  using S = TestType;
  latent::Rng rng(31);
  const Matrix<S> X = uniform_matrix<S>(5, 6, 32, 0.0, 1.0);

  SECTION("Bernoulli: samples are decoder means in [0, 1]") {
    auto vae = small_vae<S, latent::Sigmoid>(rng, 5);
    latent::Rng a(33), b(33);
    const Matrix<S> samples = vae.sample(40, a);
    REQUIRE(samples.rows() == 5);
    REQUIRE(samples.cols() == 40);
    CHECK((samples.array() >= S(0)).all());
    CHECK((samples.array() <= S(1)).all());
    // decode(z) with z ~ N(0, I) from the engine.
    Matrix<S> z(2, 40);
    latent::fill_normal(z, 0.0, 1.0, b);
    CHECK(samples == vae.decode(z));
    CHECK(vae.sample(0, a).cols() == 0);
  }
  SECTION("GaussianLearnedVariance: samples and decode give the means only") {
    auto vae = small_vae<S, latent::Identity>(rng, 10, latent::GaussianLearnedVariance{});
    CHECK(vae.sample(7, rng).rows() == 5);
    CHECK(vae.decode(Matrix<S>::Zero(2, 3)).rows() == 5);
    CHECK(vae.reconstruct(X).rows() == 5);
  }
  SECTION("encode_mean, encode, decode, reconstruct") {
    auto vae = small_vae<S, latent::Sigmoid>(rng, 5);
    const Matrix<S> mean = vae.encode_mean(X);
    REQUIRE(mean.rows() == 2);
    REQUIRE(mean.cols() == 6);
    Matrix<S> mu(2, 6), v(2, 6);
    vae.encode(X, mu, v);
    CHECK(mu == mean);
    CHECK(v != mu);
    const Matrix<S> decoded = vae.decode(mean);
    REQUIRE(decoded.rows() == 5);
    REQUIRE(decoded.cols() == 6);
    CHECK(vae.reconstruct(X) == decoded);
    CHECK(vae.input_size() == 5);
    CHECK(vae.latent_size() == 2);
  }
  SECTION("elbo, reconstruction_probability and log_likelihood give one value per column") {
    auto vae = small_vae<S, latent::Sigmoid>(rng, 5);
    CHECK(vae.elbo(X, rng).cols() == 6);
    CHECK(vae.reconstruction_probability(X, 3, rng).cols() == 6);
    CHECK(vae.log_likelihood(X, 3, rng).cols() == 6);
    CHECK(vae.log_likelihood(X, 3, rng).allFinite());
  }
}

TEMPLATE_TEST_CASE("A const VAE's encode_mean, decode and reconstruct agree with the workspace path",
                   "[vae]", float, double) {
  using S = TestType;
  latent::Rng rng(34);
  const Index n = GENERATE(1, 600);  // 600: two full inference blocks and a ragged one
  INFO(n << " columns");
  const Matrix<S> X = uniform_matrix<S>(5, n, 35, 0.0, 1.0);
  const auto check = [&](auto& vae) {
    const auto& shared = vae;
    const Matrix<S> mean = vae.encode_mean(X);
    CHECK(same_up_to_rounding(shared.encode_mean(X), mean));
    CHECK(same_up_to_rounding(shared.decode(mean), vae.decode(mean)));
    CHECK(same_up_to_rounding(shared.reconstruct(X), vae.reconstruct(X)));
  };
  SECTION("Bernoulli") {
    auto vae = small_vae<S, latent::Sigmoid>(rng, 5);
    check(vae);
  }
  SECTION("GaussianLearnedVariance: decode keeps the means of the decoder's 2d outputs") {
    auto vae = small_vae<S, latent::Identity>(rng, 10, latent::GaussianLearnedVariance{});
    check(vae);
    CHECK(std::as_const(vae).decode(Matrix<S>::Zero(2, 3)).rows() == 5);
  }
}

TEST_CASE("The VAE deduces its likelihood from the constructor's arguments", "[vae]") {
  latent::Rng rng(34);
  auto bernoulli = small_vae<float, latent::Sigmoid>(rng, 5);
  static_assert(std::is_same_v<decltype(bernoulli)::LikelihoodType, latent::Bernoulli>);
  latent::VaeOptions options;
  options.beta = 4.0;
  auto gaussian = small_vae<float, latent::Identity>(rng, 5, options, latent::Gaussian(0.5));
  static_assert(std::is_same_v<decltype(gaussian)::LikelihoodType, latent::Gaussian>);
  static_assert(std::is_same_v<decltype(gaussian),
                               latent::VariationalAutoencoder<Body<float>,
                                                              Decoder<float, latent::Identity>,
                                                              latent::Gaussian>>);
  CHECK(gaussian.likelihood().variance == 0.5);
  CHECK(gaussian.options().beta == 4.0);
  auto learned = small_vae<float, latent::Identity>(rng, 10, latent::GaussianLearnedVariance{});
  static_assert(
      std::is_same_v<decltype(learned)::LikelihoodType, latent::GaussianLearnedVariance>);
  // body 24 + heads 2 (4 * 2 + 2) + decoder (2 * 4 + 4) + (4 * 10 + 10)
  CHECK(learned.parameter_count() == 24 + 20 + 12 + 50);
}

TEST_CASE("The VAE refuses bad options and inputs, saying which", "[vae][errors]") {
  latent::Rng rng(35);
  // Builders, so that no template argument list sits inside a Catch macro.
  auto bernoulli = [&](Index outputs, const latent::VaeOptions& options) {
    return small_vae<double, latent::Sigmoid>(rng, outputs, options);
  };
  auto learned_variance = [&](Index outputs) {
    return small_vae<double, latent::Identity>(rng, outputs, latent::GaussianLearnedVariance{});
  };
  auto with_latent = [&](Index latent) {
    return latent::VariationalAutoencoder(make_body<double>(5, 4), latent,
                                          make_decoder<double, latent::Sigmoid>(2, 4, 5), rng);
  };
  SECTION("negative beta or weight decay") {
    latent::VaeOptions options;
    options.beta = -0.5;
    CHECK_THROWS_AS(bernoulli(5, options), std::invalid_argument);
    CHECK_THROWS_WITH(bernoulli(5, options), Contains("'beta'"));
    options.beta = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(bernoulli(5, options), std::invalid_argument);
    options.beta = 1.0;
    options.weight_decay = -1.0;
    CHECK_THROWS_WITH(bernoulli(5, options), Contains("'weight_decay'"));
    options.weight_decay = 0.0;
    options.beta = 0.0;  // no KL at all is allowed
    CHECK_NOTHROW(bernoulli(5, options));
  }
  SECTION("a latent size the decoder does not take") {
    CHECK_NOTHROW(with_latent(2));
    CHECK_THROWS_AS(with_latent(3), std::invalid_argument);
    CHECK_THROWS_WITH(with_latent(3), Contains("latent size is 3") && Contains("takes 2"));
  }
  SECTION("a decoder output the likelihood cannot read") {
    // GaussianLearnedVariance needs 2d outputs; Bernoulli needs d.
    CHECK_NOTHROW(learned_variance(10));
    CHECK_THROWS_AS(learned_variance(5), std::invalid_argument);
    CHECK_THROWS_WITH(learned_variance(5), Contains("GaussianLearnedVariance") && Contains("needs 10"));
    CHECK_THROWS_AS(bernoulli(10, latent::VaeOptions{}), std::invalid_argument);
  }
  SECTION("a likelihood option made bad through its field after the likelihood was built") {
    // The likelihood checks its options when built, and the model checks them again.
    latent::Gaussian gaussian(0.5);
    gaussian.variance = 0.0;
    auto build = [&] { return small_vae<double, latent::Identity>(rng, 5, gaussian); };
    CHECK_THROWS_AS(build(), std::invalid_argument);
    CHECK_THROWS_WITH(build(), Contains("latent::Gaussian") && Contains("'variance'") &&
                                   Contains("positive"));
    gaussian.variance = -1.0;
    CHECK_THROWS_AS(build(), std::invalid_argument);
    gaussian.variance = 0.25;
    CHECK_NOTHROW(build());
  }
  SECTION("k < 1 in the estimates") {
    auto vae = small_vae<double, latent::Sigmoid>(rng, 5);
    const Matrix<double> X = uniform_matrix(5, 3, 36, 0.0, 1.0);
    CHECK_THROWS_AS(vae.log_likelihood(X, 0, rng), std::invalid_argument);
    CHECK_THROWS_WITH(vae.log_likelihood(X, 0, rng), Contains("log_likelihood") && Contains("at least 1"));
    CHECK_THROWS_AS(vae.elbo(X, rng, 0), std::invalid_argument);
    CHECK_THROWS_AS(vae.elbo(X, rng, -2), std::invalid_argument);
    CHECK_THROWS_AS(vae.reconstruction_probability(X, 0, rng), std::invalid_argument);
  }
  SECTION("data of the wrong shape, NaN, or outside what the likelihood models") {
    auto vae = small_vae<double, latent::Sigmoid>(rng, 5);
    CHECK_THROWS_AS(vae.encode_mean(uniform_matrix(4, 3, 37)), std::invalid_argument);
    CHECK_THROWS_AS(vae.decode(uniform_matrix(3, 3, 37)), std::invalid_argument);
    CHECK_THROWS_AS(vae.sample(-1, rng), std::invalid_argument);
    Matrix<double> X = uniform_matrix(5, 3, 38, 0.0, 1.0);
    CHECK_THROWS_AS(vae.train_batch_with_noise(X, uniform_matrix(2, 4, 39)), std::invalid_argument);
    CHECK_THROWS_AS(vae.train_batch_with_noise(X, uniform_matrix(3, 3, 39)), std::invalid_argument);
    X(0, 0) = 1.5;  // not a probability
    CHECK_THROWS_WITH(vae.train_batch(X, rng), Contains("[0, 1]"));
    CHECK_THROWS_WITH(vae.log_likelihood(X, 2, rng), Contains("[0, 1]"));
    X(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(vae.elbo(X, rng), std::invalid_argument);
  }
}

TEST_CASE("A VAE's steady-state step allocates nothing", "[vae][allocation]") {
  latent::Rng rng(40);
  auto vae = small_vae<float, latent::Identity>(rng, 10, latent::GaussianLearnedVariance{});
  const Matrix<float> X = uniform_matrix<float>(5, 16, 41);
  vae.train_batch(X, rng);  // warm-up
  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    vae.train_batch(X.leftCols(9), rng);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
}
