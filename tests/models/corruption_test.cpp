#include <latent/models/corruption.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <catch2/catch.hpp>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

// The corruption policies of a denoising autoencoder: each corrupts the requested fraction (or
// adds the requested sigma) drawing from the caller's engine only, and the Autoencoder applies
// them in train_batch only, taking the loss against the clean input.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

template <class S>
using Encoder = latent::Sequential<latent::Dense<S, latent::Tanh>>;
template <class S>
using Decoder = latent::Sequential<latent::Dense<S, latent::Sigmoid>>;

template <class S>
Encoder<S> make_encoder() {
  return Encoder<S>(latent::Dense<S, latent::Tanh>(6, 3));
}
template <class S>
Decoder<S> make_decoder() {
  return Decoder<S>(latent::Dense<S, latent::Sigmoid>(3, 6));
}

/// Runs `policy.apply` on X with a generator seeded by `seed`.
template <class Policy, class S>
Matrix<S> corrupt(const Policy& policy, const Matrix<S>& X, std::uint64_t seed) {
  Matrix<S> out(X.rows(), X.cols());
  latent::Rng rng(seed);
  policy.template apply<S>(X, latent::MatrixMap<S>(out.data(), out.rows(), out.cols()), rng);
  return out;
}

/// Fraction of the entries of `a` that equal `value` (a plain loop: cheap in a Debug build).
template <class S>
double fraction_equal(const Matrix<S>& a, S value) {
  Index count = 0;
  const S* p = a.data();
  for (Index i = 0; i < a.size(); ++i) count += p[i] == value ? 1 : 0;
  return static_cast<double>(count) / static_cast<double>(a.size());
}

}  // namespace

// The statistical tests draw on 5 10^5 entries. A policy's decisions come from the engine alone
// (its uniforms are doubles whatever S is), so they run in float only; "The same seed gives the
// same corruption" checks that float and double see the same decisions. At fraction 0.2 the
// binomial's relative standard deviation is 0.28%, so a 1% bound is over 3.5 of them (7 at 0.5).

TEST_CASE("MaskingNoise zeroes the requested fraction of the entries and keeps the rest",
          "[corruption]") {
  const double fraction = GENERATE(0.2, 0.5, 0.9);
  INFO("fraction " << fraction);
  const Matrix<float> X = Matrix<float>::Constant(500, 1000, 0.5f);
  const Matrix<float> out = corrupt(latent::MaskingNoise(fraction), X, 11);
  CHECK_THAT(fraction_equal(out, 0.0f), WithinRel(fraction, 0.01));
  CHECK_THAT(fraction_equal(out, 0.0f) + fraction_equal(out, 0.5f), WithinRel(1.0, 1e-12));
}

TEST_CASE("SaltAndPepper sets the requested fraction to low or high in equal shares",
          "[corruption]") {
  const double fraction = GENERATE(0.2, 0.6, 1.0);
  INFO("fraction " << fraction);
  const Matrix<float> X = Matrix<float>::Constant(500, 1000, 0.5f);
  const Matrix<float> out = corrupt(latent::SaltAndPepper(fraction), X, 12);
  const double low = fraction_equal(out, 0.0f), high = fraction_equal(out, 1.0f);
  CHECK_THAT(low + high, WithinRel(fraction, 0.01));
  CHECK_THAT(low / (low + high), WithinAbs(0.5, 0.01));
  CHECK_THAT(low + high + fraction_equal(out, 0.5f), WithinRel(1.0, 1e-12));
}

TEMPLATE_TEST_CASE("SaltAndPepper uses the bounds it is given", "[corruption]", float, double) {
  using S = TestType;
  const Matrix<S> X = uniform_matrix<S>(40, 50, 3, 0.25, 0.75);
  const Matrix<S> out = corrupt(latent::SaltAndPepper(0.4, -2.0, 3.0), X, 5);
  CHECK(((out.array() == S(-2)) || (out.array() == S(3)) || (out.array() == X.array())).all());
  CHECK((out.array() == S(-2)).any());
  CHECK((out.array() == S(3)).any());
  CHECK(!(out.array() == S(0)).any());
}

TEST_CASE("GaussianNoise adds zero-mean noise of the requested sigma", "[corruption]") {
  const double sigma = GENERATE(0.05, 2.0);
  INFO("sigma " << sigma);
  // 2 10^5 entries: the standard errors are sigma / 450 for the mean, 0.16% of sigma for the
  // deviation and 0.05% for the tail fraction.
  const Matrix<double> X = Matrix<double>::Constant(400, 500, 0.5);
  const Matrix<double> noise = corrupt(latent::GaussianNoise(sigma), X, 7) - X;
  const double n = static_cast<double>(noise.size());
  const double mean = noise.mean();
  const double sd = std::sqrt((noise.array() - mean).square().sum() / (n - 1));
  CHECK(std::abs(mean) < 5.0 * sigma / std::sqrt(n));
  CHECK_THAT(sd, WithinRel(sigma, 0.01));
  // Gaussian tails: 4.55% beyond 2 sigma.
  const double beyond = static_cast<double>((noise.array().abs() > 2 * sigma).count()) / n;
  CHECK_THAT(beyond, WithinAbs(0.0455, 0.002));
}

TEMPLATE_TEST_CASE("The edge fractions 0 and 1 keep or corrupt everything", "[corruption]",
                   float, double) {
  using S = TestType;
  const Matrix<S> X = uniform_matrix<S>(7, 9, 8, 0.25, 0.75);
  CHECK(corrupt(latent::MaskingNoise(0.0), X, 1) == X);
  CHECK(corrupt(latent::MaskingNoise(1.0), X, 1).isZero());
  CHECK(corrupt(latent::SaltAndPepper(0.0), X, 1) == X);
  CHECK(corrupt(latent::GaussianNoise(0.0), X, 1) == X);
  const Matrix<S> all = corrupt(latent::SaltAndPepper(1.0), X, 1);
  CHECK(((all.array() == S(0)) || (all.array() == S(1))).all());
}

TEMPLATE_TEST_CASE("The same seed gives the same corruption and another seed another one",
                   "[corruption]", float, double) {
  using S = TestType;
  const Matrix<S> X = uniform_matrix<S>(9, 31, 9, 0.25, 0.75);  // an odd number of entries
  SECTION("GaussianNoise") {
    const latent::GaussianNoise policy(0.3);
    CHECK(corrupt(policy, X, 1) == corrupt(policy, X, 1));
    CHECK(corrupt(policy, X, 1) != corrupt(policy, X, 2));
  }
  SECTION("MaskingNoise") {
    const latent::MaskingNoise policy(0.3);
    CHECK(corrupt(policy, X, 1) == corrupt(policy, X, 1));
    CHECK(corrupt(policy, X, 1) != corrupt(policy, X, 2));
  }
  SECTION("SaltAndPepper") {
    const latent::SaltAndPepper policy(0.3);
    CHECK(corrupt(policy, X, 1) == corrupt(policy, X, 1));
    CHECK(corrupt(policy, X, 1) != corrupt(policy, X, 2));
  }
  SECTION("float and double make the same decisions from the same seed") {
    const Matrix<float> Xf = X.template cast<float>();
    const Matrix<double> Xd = X.template cast<double>();
    const Matrix<float> mf = corrupt(latent::MaskingNoise(0.3), Xf, 4);
    const Matrix<double> md = corrupt(latent::MaskingNoise(0.3), Xd, 4);
    CHECK(((mf.array() == 0.0f) == (md.array() == 0.0)).all());
    CHECK((md.array() == 0.0).any());
    const Matrix<float> pf = corrupt(latent::SaltAndPepper(0.3), Xf, 4);
    const Matrix<double> pd = corrupt(latent::SaltAndPepper(0.3), Xd, 4);
    CHECK(((pf.array() == 0.0f) == (pd.array() == 0.0)).all());
    CHECK(((pf.array() == 1.0f) == (pd.array() == 1.0)).all());
  }
  SECTION("two calls on one engine draw different corruptions") {
    const latent::MaskingNoise policy(0.5);
    Matrix<S> first(X.rows(), X.cols()), second(X.rows(), X.cols());
    latent::Rng rng(3);
    policy.template apply<S>(X, latent::MatrixMap<S>(first.data(), X.rows(), X.cols()), rng);
    policy.template apply<S>(X, latent::MatrixMap<S>(second.data(), X.rows(), X.cols()), rng);
    CHECK(first != second);
  }
}

TEST_CASE("Corruption policies refuse bad options, naming them", "[corruption][errors]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(latent::GaussianNoise(-0.1), std::invalid_argument);
  CHECK_THROWS_WITH(latent::GaussianNoise(-0.1), Contains("'sigma'"));
  CHECK_THROWS_AS(latent::GaussianNoise(nan), std::invalid_argument);
  CHECK_THROWS_AS(latent::GaussianNoise(inf), std::invalid_argument);
  CHECK_NOTHROW(latent::GaussianNoise(0.0));

  CHECK_THROWS_AS(latent::MaskingNoise(-0.01), std::invalid_argument);
  CHECK_THROWS_AS(latent::MaskingNoise(1.01), std::invalid_argument);
  CHECK_THROWS_AS(latent::MaskingNoise(nan), std::invalid_argument);
  CHECK_THROWS_WITH(latent::MaskingNoise(1.5), Contains("'fraction'") && Contains("[0, 1]"));
  CHECK_NOTHROW(latent::MaskingNoise(0.0));
  CHECK_NOTHROW(latent::MaskingNoise(1.0));

  CHECK_THROWS_AS(latent::SaltAndPepper(-0.5), std::invalid_argument);
  CHECK_THROWS_AS(latent::SaltAndPepper(2.0), std::invalid_argument);
  CHECK_THROWS_AS(latent::SaltAndPepper(nan), std::invalid_argument);
  CHECK_THROWS_WITH(latent::SaltAndPepper(1.5), Contains("'fraction'"));
  CHECK_THROWS_AS(latent::SaltAndPepper(0.1, 1.0, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(latent::SaltAndPepper(0.1, 1.0, 1.0), std::invalid_argument);
  CHECK_NOTHROW(latent::SaltAndPepper(1.0, -1.0, 1.0));
}

TEST_CASE("The policies-as-arguments constructor deduces a denoising autoencoder",
          "[corruption][denoising]") {
  latent::Rng rng(1);
  latent::Autoencoder model(make_encoder<float>(), make_decoder<float>(), rng,
                            latent::BinaryCrossEntropy{}, latent::MaskingNoise(0.3));
  using Model = decltype(model);
  static_assert(std::is_same_v<Model::LossType, latent::BinaryCrossEntropy>);
  static_assert(std::is_same_v<Model::CorruptionType, latent::MaskingNoise>);
  static_assert(std::is_same_v<Model::PenaltyType, latent::NoPenalty>);
  static_assert(std::is_same_v<Model, latent::DenoisingAutoencoder<Encoder<float>, Decoder<float>,
                                                                   latent::MaskingNoise,
                                                                   latent::BinaryCrossEntropy>>);
  CHECK(model.corruption().fraction == 0.3);

  // In any order, with the options too.
  latent::AutoencoderOptions options;
  options.weight_decay = 0.01;
  latent::Autoencoder swapped(make_encoder<float>(), make_decoder<float>(), rng,
                              latent::SaltAndPepper(0.2, -1.0, 1.0), options);
  using Swapped = decltype(swapped);
  static_assert(std::is_same_v<Swapped::LossType, latent::MeanSquaredError>);
  static_assert(std::is_same_v<Swapped::CorruptionType, latent::SaltAndPepper>);
  static_assert(std::is_same_v<Swapped, latent::DenoisingAutoencoder<Encoder<float>, Decoder<float>,
                                                                     latent::SaltAndPepper>>);
  CHECK(swapped.corruption().fraction == 0.2);
  CHECK(swapped.corruption().low == -1.0);
  CHECK(swapped.options().weight_decay == 0.01);
}

namespace {

/// The sections of "A denoising autoencoder corrupts in training and never in inference" for
/// one corruption policy.
template <class S, class Policy>
void check_corrupts_in_training_only(const Policy& policy) {
  latent::Rng init(2);
  latent::Autoencoder plain(make_encoder<S>(), make_decoder<S>(), init);
  latent::Autoencoder denoising(make_encoder<S>(), make_decoder<S>(), init, policy);
  denoising.parameters() = plain.parameters();
  const Matrix<S> X = uniform_matrix<S>(6, 20, 3, 0.0, 1.0);

  SECTION("encode, reconstruct and loss equal those without corruption") {
    CHECK(denoising.encode(X) == plain.encode(X));
    CHECK(denoising.reconstruct(X) == plain.reconstruct(X));
    CHECK(denoising.loss(X) == plain.loss(X));
    // And they draw nothing: calling them twice gives the same.
    CHECK(denoising.reconstruct(X) == denoising.reconstruct(X));
  }
  SECTION("train_batch sees the corrupted input: its objective and gradient differ") {
    latent::Rng rng(4);
    const S plain_objective = plain.train_batch(X, rng);
    const S denoising_objective = denoising.train_batch(X, rng);
    CHECK(plain_objective == plain.loss(X));
    CHECK(denoising_objective != plain_objective);
    CHECK((denoising.gradients() - plain.gradients()).norm() > S(1e-3) * plain.gradients().norm());
  }
  SECTION("train_batch compares the reconstruction of the corrupted input with the clean one") {
    const Matrix<S> corrupted = corrupt(policy, X, 5);
    REQUIRE(corrupted != X);
    const S expected = latent::MeanSquaredError::value(plain.reconstruct(corrupted), X);
    latent::Rng rng(5);
    const S objective = denoising.train_batch(X, rng);
    const double eps = std::is_same_v<S, float> ? 1e-5 : 1e-13;
    CHECK_THAT(static_cast<double>(objective), WithinRel(static_cast<double>(expected), eps));
    // Against the corrupted input as target it would be another number.
    CHECK(std::abs(objective - latent::MeanSquaredError::value(plain.reconstruct(corrupted),
                                                                corrupted)) > S(1e-3));
  }
  SECTION("train_batch draws from the engine; a plain model's does not") {
    latent::Rng rng(6), copy(6);
    plain.train_batch(X, rng);
    CHECK(rng == copy);
    denoising.train_batch(X, rng);
    CHECK(rng != copy);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("A denoising autoencoder corrupts in training and never in inference",
                   "[corruption][denoising]", float, double) {
  using S = TestType;
  SECTION("MaskingNoise") { check_corrupts_in_training_only<S>(latent::MaskingNoise(0.5)); }
  SECTION("GaussianNoise") { check_corrupts_in_training_only<S>(latent::GaussianNoise(0.2)); }
  SECTION("SaltAndPepper") { check_corrupts_in_training_only<S>(latent::SaltAndPepper(0.5)); }
}

TEST_CASE("A denoising autoencoder's step is fixed by the seed", "[corruption][denoising]") {
  latent::Rng init(7);
  latent::Autoencoder model(make_encoder<double>(), make_decoder<double>(), init,
                            latent::GaussianNoise(0.2));
  const Matrix<double> X = uniform_matrix(6, 12, 8);
  latent::Rng a(9), b(9), c(10);
  const double first = model.train_batch(X, a);
  const Eigen::VectorXd gradient = model.gradients();
  CHECK(model.train_batch(X, b) == first);
  CHECK(model.gradients() == gradient);
  CHECK(model.train_batch(X, c) != first);
}

TEST_CASE("A denoising autoencoder's gradient matches finite differences for a fixed corruption",
          "[corruption][denoising][gradient]") {
  const std::uint64_t seed = GENERATE(1, 2);
  const double weight_decay = GENERATE(0.0, 0.05);
  INFO("seed " << seed << ", weight decay " << weight_decay);
  latent::AutoencoderOptions options;
  options.weight_decay = weight_decay;
  latent::Rng init(seed);
  const Matrix<double> X = uniform_matrix(6, 7, seed + 10, 0.05, 0.95);

  // Each evaluation reseeds the engine: the corruption is the same fixed input every time.
  auto check = [&](auto& model) {
    latent::Rng rng(seed + 20);
    model.train_batch(X, rng);
    const Eigen::VectorXd analytic = model.gradients();
    REQUIRE(analytic.norm() > 1e-3);
    const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
        [&] {
          latent::Rng same(seed + 20);
          return model.train_batch(X, same);
        },
        model.parameters());
    CHECK(latent::testing::relative_error(analytic, numeric) < 1e-6);
  };
  SECTION("GaussianNoise with MeanSquaredError") {
    latent::Autoencoder model(make_encoder<double>(), make_decoder<double>(), init,
                              latent::GaussianNoise(0.3), options);
    check(model);
  }
  SECTION("MaskingNoise with BinaryCrossEntropy") {
    latent::Autoencoder model(make_encoder<double>(), make_decoder<double>(), init,
                              latent::MaskingNoise(0.4), latent::BinaryCrossEntropy{}, options);
    check(model);
  }
  SECTION("SaltAndPepper with BinaryCrossEntropy") {
    latent::Autoencoder model(make_encoder<double>(), make_decoder<double>(), init,
                              latent::SaltAndPepper(0.4), latent::BinaryCrossEntropy{}, options);
    check(model);
  }
}

TEST_CASE("A denoising autoencoder's steady-state step allocates nothing",
          "[corruption][denoising][allocation]") {
  latent::Rng rng(3);
  latent::Autoencoder model(make_encoder<float>(), make_decoder<float>(), rng,
                            latent::GaussianNoise(0.1));
  const Matrix<float> X = uniform_matrix<float>(6, 16, 4);
  model.train_batch(X, rng);  // warm-up
  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    model.train_batch(X.leftCols(9), rng);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
}
