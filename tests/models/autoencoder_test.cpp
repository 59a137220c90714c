#include <latent/models/autoencoder.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/layers/tied_dense.hpp>
#include <latent/losses.hpp>
#include <latent/models/code_penalty.hpp>
#include <latent/models/contractive.hpp>
#include <latent/models/corruption.hpp>
#include <latent/optim/adam.hpp>
#include <latent/train/fit.hpp>

#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Dense;
using latent::Index;
using latent::Matrix;
using latent::Sequential;
using latent::Tanh;

// 5 -> 4 -> 2 -> 4 -> 5 with Tanh hidden layers (smooth, so finite differences are exact to
// O(h^2)): 71 parameters.
template <class S>
using Encoder = Sequential<Dense<S, Tanh>, Dense<S, Tanh>>;
template <class S, class OutputActivation>
using Decoder = Sequential<Dense<S, Tanh>, Dense<S, OutputActivation>>;
template <class S, class OutputActivation = latent::Identity,
          class Loss = latent::MeanSquaredError>
using Model = latent::Autoencoder<Encoder<S>, Decoder<S, OutputActivation>, Loss>;

template <class S, class OutputActivation = latent::Identity,
          class Loss = latent::MeanSquaredError>
Model<S, OutputActivation, Loss> make_model(std::uint64_t seed,
                                            latent::AutoencoderOptions options = {}) {
  latent::Rng rng(seed);
  return Model<S, OutputActivation, Loss>(
      Encoder<S>(Dense<S, Tanh>(5, 4), Dense<S, Tanh>(4, 2)),
      Decoder<S, OutputActivation>(Dense<S, Tanh>(2, 4), Dense<S, OutputActivation>(4, 5)), rng,
      options);
}

template <class S>
double tolerance() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-12;
}

// Compares two matrices entry by entry, relative to the larger magnitude of the two.
template <class S>
void require_close(const Matrix<S>& actual, const Matrix<S>& expected) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  const double scale = std::max(1.0, static_cast<double>(expected.cwiseAbs().maxCoeff()));
  const double difference = static_cast<double>((actual - expected).cwiseAbs().maxCoeff());
  REQUIRE_THAT(difference / scale, WithinAbs(0.0, tolerance<S>()));
}

// The const path against the workspace path: equal but for a few roundings (their GEMMs may
// block a product differently once a workspace has held a larger batch).
template <class S>
bool same_up_to_rounding(const Matrix<S>& actual, const Matrix<S>& expected) {
  const S tolerance = 8 * std::numeric_limits<S>::epsilon();
  return actual.rows() == expected.rows() && actual.cols() == expected.cols() &&
         ((actual - expected).array().abs() <= tolerance * expected.array().abs().max(S(1))).all();
}

// Relative error between train_batch's gradient and central differences of the objective that
// train_batch returns, with respect to every parameter. Parameters are moved off their
// initial values (biases start at 0) so that no term of the gradient is trivially zero.
template <class M>
double gradient_error(M& model, const Matrix<double>& X) {
  latent::Rng rng(99);
  model.parameters() += latent::testing::uniform_matrix<double>(model.parameter_count(), 1, 7,
                                                                -0.3, 0.3);
  model.train_batch(X.rowwise().reverse(), rng);  // its gradient must not linger
  model.train_batch(X, rng);
  const Eigen::VectorXd analytic = model.gradients();
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return model.train_batch(X, rng); }, model.parameters());
  REQUIRE(analytic.size() == model.parameter_count());
  REQUIRE(analytic.norm() > 1e-3);  // a gradient that is all zeros would check nothing
  return latent::testing::relative_error(analytic, numeric);
}

}  // namespace

TEST_CASE("Autoencoder's gradient matches finite differences of its objective",
          "[autoencoder][gradient]") {
  const std::uint64_t seed = GENERATE(1, 2);
  INFO("seed " << seed);

  SECTION("MeanSquaredError after an Identity output") {
    auto model = make_model<double>(seed);
    REQUIRE(model.parameter_count() == 71);
    const Matrix<double> X = latent::testing::uniform_matrix(5, 7, seed + 10);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
  SECTION("MeanSquaredError after a Sigmoid output") {
    auto model = make_model<double, latent::Sigmoid>(seed);
    const Matrix<double> X = latent::testing::uniform_matrix(5, 7, seed + 10, 0.0, 1.0);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
  SECTION("BinaryCrossEntropy after a Sigmoid output, data in (0, 1)") {
    auto model = make_model<double, latent::Sigmoid, latent::BinaryCrossEntropy>(seed);
    const Matrix<double> X = latent::testing::uniform_matrix(5, 7, seed + 10, 0.05, 0.95);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
  SECTION("SigmoidCrossEntropy after an Identity output") {
    auto model = make_model<double, latent::Identity, latent::SigmoidCrossEntropy>(seed);
    const Matrix<double> X = latent::testing::uniform_matrix(5, 7, seed + 10, 0.0, 1.0);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
  SECTION("with weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = 0.3;
    auto model = make_model<double>(seed, options);
    const Matrix<double> X = latent::testing::uniform_matrix(5, 7, seed + 10);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
  SECTION("BinaryCrossEntropy with weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = 0.05;
    auto model = make_model<double, latent::Sigmoid, latent::BinaryCrossEntropy>(seed, options);
    const Matrix<double> X = latent::testing::uniform_matrix(5, 7, seed + 10, 0.05, 0.95);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
}

// train_batch(B) after train_batch(A) gives B's gradient alone: the same bits as a copy that
// never saw A, and central differences of B's objective. Models whose layers each write only
// their own range zero it just before the layer's backward (GradientWrite::replace); with a tied
// layer or a penalty adding into another layer's range, the whole buffer is zeroed first.
template <class M>
void require_replaced_gradient(M model) {
  const Matrix<double> A = latent::testing::uniform_matrix(5, 7, 30, 0.0, 1.0);
  const Matrix<double> B = latent::testing::uniform_matrix(5, 9, 31, 0.0, 1.0);
  M fresh = model;
  latent::Rng rng(1), fresh_rng(1);
  model.train_batch(A, rng);
  model.train_batch(B, rng);
  fresh.train_batch(B, fresh_rng);
  REQUIRE(fresh.gradients().norm() > 1e-3);
  REQUIRE(model.gradients() == fresh.gradients());
  const Eigen::VectorXd analytic = model.gradients();
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return model.train_batch(B, rng); }, model.parameters());
  REQUIRE(latent::testing::relative_error(analytic, numeric) < 1e-6);
}

TEST_CASE("Autoencoder's train_batch replaces the gradient of the batch before",
          "[autoencoder][gradient]") {
  latent::Rng rng(3);
  const Dense<double, Tanh> first(5, 4);
  const Sequential encoder{first, Dense<double, Tanh>(4, 2)};
  SECTION("plain") {
    require_replaced_gradient(latent::Autoencoder(
        encoder, Sequential{Dense<double, Tanh>(2, 4), Dense<double, latent::Sigmoid>(4, 5)},
        rng));
  }
  SECTION("tied: the decoder adds into the encoder's weights") {
    require_replaced_gradient(
        latent::Autoencoder(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng));
  }
  SECTION("a tie inside the encoder: a later layer adds into the first one's weights") {
    require_replaced_gradient(latent::Autoencoder(
        Sequential{first, latent::TiedDense<double, Tanh>(first), Dense<double, Tanh>(5, 2)},
        Sequential{Dense<double, latent::Sigmoid>(2, 5)}, rng));
  }
  SECTION("contractive: the penalty adds into the encoder's weights") {
    require_replaced_gradient(latent::Autoencoder(Sequential{Dense<double, latent::Sigmoid>(5, 3)},
                                                  Sequential{Dense<double, latent::Sigmoid>(3, 5)},
                                                  rng, latent::ContractivePenalty(0.1)));
  }
  SECTION("sparse") {
    require_replaced_gradient(latent::Autoencoder(
        encoder, Sequential{Dense<double, Tanh>(2, 4), Dense<double, latent::Sigmoid>(4, 5)}, rng,
        latent::L1Penalty(0.01)));
  }
}

TEST_CASE("An overcomplete autoencoder learns a finite-difference-exact gradient and reconstructs",
          "[autoencoder][overcomplete]") {
  // 6 inputs, 12 Sigmoid code units (twice the input), an Identity output, MSE.
  latent::Rng rng(5);
  latent::Autoencoder model(Sequential{Dense<double, latent::Sigmoid>(6, 12)},
                            Sequential{Dense<double>(12, 6)}, rng);
  REQUIRE(model.code_size() > model.input_size());
  REQUIRE(model.parameter_count() == 6 * 12 + 12 + 12 * 6 + 6);

  SECTION("its gradient matches finite differences of its objective") {
    const Matrix<double> X = latent::testing::uniform_matrix(6, 7, 6);
    REQUIRE(gradient_error(model, X) < 1e-6);
  }
  SECTION("fit cuts its reconstruction loss to a small fraction of the initial one") {
    // 200 samples of 6 U(-1, 1) inputs, Adam(0.01), 100 epochs of batches of 20. Measured:
    // loss 6.19 -> 0.0089, ratio 0.0014 (0.0013 to 0.0024 for engine seeds 1 to 8; 0.05 to
    // 0.09 after 10 epochs, 0.22 to 0.43 after 3), and 0.0043 of the loss of the best constant
    // output (the data's mean, about 2). Untrained both ratios are far above their bounds.
    const Matrix<double> X = latent::testing::uniform_matrix(6, 200, 7);
    const double initial = model.loss(X);
    const double constant = (X.colwise() - X.rowwise().mean()).squaredNorm() / 200.0;
    latent::FitOptions options;
    options.epochs = 100;
    options.batch_size = 20;
    latent::Adam<double> adam(0.01);
    latent::fit(model, adam, X, options, rng);
    const double trained = model.loss(X);
    INFO("loss " << initial << " -> " << trained << ", ratio " << trained / initial
                 << "; best constant output " << constant);
    CHECK(trained < 0.01 * initial);
    CHECK(trained < 0.05 * constant);
  }
}

TEST_CASE("Autoencoder's weight decay adds lambda w to the weights' gradients only",
          "[autoencoder]") {
  latent::AutoencoderOptions options;
  options.weight_decay = 0.25;
  auto plain = make_model<double>(4);
  auto decayed = make_model<double>(4, options);
  REQUIRE(plain.parameters() == decayed.parameters());
  plain.parameters() += latent::testing::uniform_matrix(71, 1, 5, -0.5, 0.5);
  decayed.parameters() = plain.parameters();

  const Matrix<double> X = latent::testing::uniform_matrix(5, 6, 8);
  latent::Rng rng(0);
  const double objective = plain.train_batch(X, rng);
  const double decayed_objective = decayed.train_batch(X, rng);
  const Eigen::VectorXd difference = decayed.gradients() - plain.gradients();
  const Eigen::VectorXd& p = plain.parameters();

  // Layout (encoder first, then decoder; in each Dense W column-major, then b):
  // W 4x5 [0, 20), b [20, 24); W 2x4 [24, 32), b [32, 34); W 4x2 [34, 42), b [42, 46);
  // W 5x4 [46, 66), b [66, 71).
  struct Range {
    Index start, end;
    bool weight;
  };
  const Range ranges[] = {{0, 20, true},  {20, 24, false}, {24, 32, true},  {32, 34, false},
                          {34, 42, true}, {42, 46, false}, {46, 66, true}, {66, 71, false}};
  double sum_of_squares = 0.0;
  for (const Range& range : ranges) {
    for (Index i = range.start; i < range.end; ++i) {
      INFO("parameter " << i);
      if (range.weight) {
        REQUIRE_THAT(difference(i), WithinRel(0.25 * p(i), 1e-12) || WithinAbs(0.0, 1e-15));
        sum_of_squares += p(i) * p(i);
      } else {
        REQUIRE(difference(i) == 0.0);
      }
    }
  }
  REQUIRE_THAT(decayed_objective - objective, WithinRel(0.125 * sum_of_squares, 1e-12));
}

TEMPLATE_TEST_CASE("Autoencoder's inference equals its column-by-column results on any width",
                   "[autoencoder]", float, double) {
  auto model = make_model<TestType>(3);
  // 600 columns: more than the 256-column inference block, with a ragged last block.
  const Index n = GENERATE(1, 600);
  INFO(n << " columns");
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, n, 21);

  const Matrix<TestType> codes = model.encode(X);
  const Matrix<TestType> outputs = model.decode(codes);
  const Matrix<TestType> reconstructions = model.reconstruct(X);
  REQUIRE(codes.rows() == 2);
  REQUIRE(codes.cols() == n);
  REQUIRE(outputs.rows() == 5);
  REQUIRE(outputs.cols() == n);
  REQUIRE(reconstructions.rows() == 5);
  REQUIRE(reconstructions.cols() == n);

  Matrix<TestType> codes_by_column(2, n), outputs_by_column(5, n), reconstructions_by_column(5, n);
  for (Index j = 0; j < n; ++j) {
    codes_by_column.col(j) = model.encode(X.col(j));
    outputs_by_column.col(j) = model.decode(codes.col(j));
    reconstructions_by_column.col(j) = model.reconstruct(X.col(j));
  }
  require_close(codes, codes_by_column);
  require_close(outputs, outputs_by_column);
  require_close(reconstructions, reconstructions_by_column);
  require_close(reconstructions, outputs);  // reconstruct is decode(encode(X))

  SECTION("into preallocated outputs, including column ranges of a larger matrix") {
    Matrix<TestType> wide = Matrix<TestType>::Constant(2, n + 2, TestType(7));
    model.encode(X, wide.middleCols(1, n));
    require_close<TestType>(wide.middleCols(1, n), codes);
    REQUIRE((wide.col(0).array() == TestType(7)).all());  // nothing written outside the range
    REQUIRE((wide.col(n + 1).array() == TestType(7)).all());
    Matrix<TestType> out(5, n);
    model.decode(codes, out);
    require_close(out, outputs);
    model.reconstruct(X, out);
    require_close(out, reconstructions);
  }
}

TEMPLATE_TEST_CASE("A const Autoencoder's inference agrees with the workspace path",
                   "[autoencoder]", float, double) {
  using S = TestType;
  auto model = make_model<S, latent::Sigmoid, latent::BinaryCrossEntropy>(4);
  const auto& shared = model;
  const auto check = [&](const Matrix<S>& X) {
    const Matrix<S> codes = model.encode(X);
    CHECK(same_up_to_rounding(shared.encode(X), codes));
    CHECK(same_up_to_rounding(shared.decode(codes), model.decode(codes)));
    CHECK(same_up_to_rounding(shared.reconstruct(X), model.reconstruct(X)));
  };
  // 600 columns: two full inference blocks and a ragged one.
  const Index n = GENERATE(0, 1, 600);
  INFO(n << " columns");
  const Matrix<S> X = latent::testing::uniform_matrix<S>(5, n, 26, 0.0, 1.0);
  check(X);

  SECTION("after training steps on batches of another size") {
    latent::Rng rng(5);
    for (int step = 0; step < 3; ++step) {
      model.train_batch(latent::testing::uniform_matrix<S>(5, 7, 27, 0.0, 1.0), rng);
      model.parameters() -= S(0.1) * model.gradients();
    }
    check(X);
  }
  SECTION("refusing what the workspace path refuses") {
    const Matrix<S> wrong(4, 2);
    CHECK_THROWS_WITH(shared.encode(wrong), Contains("latent::Autoencoder::encode") &&
                                                Contains("4 rows") && Contains("takes 5"));
    CHECK_THROWS_WITH(shared.reconstruct(wrong), Contains("latent::Autoencoder::reconstruct"));
    CHECK_THROWS_WITH(shared.decode(wrong), Contains("latent::Autoencoder::decode"));
    Matrix<S> bad = Matrix<S>::Zero(5, 3);
    bad(2, 1) = std::numeric_limits<S>::quiet_NaN();
    CHECK_THROWS_WITH(shared.encode(bad), Contains("row 2") && Contains("column 1"));
  }
}

TEMPLATE_TEST_CASE("Autoencoder's inference of no samples gives empty results", "[autoencoder]",
                   float, double) {
  auto model = make_model<TestType>(3);
  const Matrix<TestType> empty(5, 0);
  REQUIRE(model.encode(empty).cols() == 0);
  REQUIRE(model.encode(empty).rows() == 2);
  REQUIRE(model.reconstruct(empty).cols() == 0);
  REQUIRE(model.decode(Matrix<TestType>(2, 0)).rows() == 5);
}

TEMPLATE_TEST_CASE("Autoencoder's loss is the mean of the per-sample losses", "[autoencoder]",
                   float, double) {
  const Index n = GENERATE(3, 300);  // 300: across an inference block boundary
  INFO(n << " columns");

  SECTION("MeanSquaredError") {
    auto model = make_model<TestType>(5);
    const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, n, 22);
    double sum = 0.0;
    for (Index j = 0; j < n; ++j) {
      sum += static_cast<double>(model.loss(X.col(j)));
      // by hand for the first sample: the squared error of its reconstruction
      if (j == 0) {
        const Matrix<TestType> r = model.reconstruct(X.col(0));
        REQUIRE_THAT(static_cast<double>(model.loss(X.col(0))),
                     WithinRel(static_cast<double>((r - X.col(0)).squaredNorm()), 1e-5));
      }
    }
    REQUIRE_THAT(static_cast<double>(model.loss(X)),
                 WithinRel(sum / static_cast<double>(n), 1e-5));
  }
  SECTION("BinaryCrossEntropy after a Sigmoid output") {
    auto model = make_model<TestType, latent::Sigmoid, latent::BinaryCrossEntropy>(5);
    const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, n, 22, 0.0, 1.0);
    double sum = 0.0;
    for (Index j = 0; j < n; ++j) sum += static_cast<double>(model.loss(X.col(j)));
    REQUIRE_THAT(static_cast<double>(model.loss(X)),
                 WithinRel(sum / static_cast<double>(n), 1e-5));
  }
}

TEMPLATE_TEST_CASE("Autoencoder's loss equals the objective of train_batch without decay",
                   "[autoencoder]", float, double) {
  auto model = make_model<TestType>(6);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, 9, 23);
  latent::Rng rng(0);
  const TestType objective = model.train_batch(X, rng);
  REQUIRE_THAT(static_cast<double>(model.loss(X)),
               WithinRel(static_cast<double>(objective), tolerance<TestType>()));
}

TEST_CASE("Autoencoder refuses an encoder and a decoder that do not fit, saying why",
          "[autoencoder]") {
  latent::Rng rng(1);
  using E = Sequential<Dense<double, Tanh>>;
  using D = Sequential<Dense<double>>;
  SECTION("the code sizes differ") {
    const auto build = [&] {
      latent::Autoencoder<E, D> model(E(Dense<double, Tanh>(5, 3)), D(Dense<double>(2, 5)), rng);
    };
    REQUIRE_THROWS_AS(build(), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(), Contains("codes of 3") && Contains("decoder takes 2"));
  }
  SECTION("the decoder does not give back the input size") {
    const auto build = [&] {
      latent::Autoencoder<E, D> model(E(Dense<double, Tanh>(5, 3)), D(Dense<double>(3, 4)), rng);
    };
    REQUIRE_THROWS_AS(build(), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(), Contains("gives 4 outputs") && Contains("takes 5 inputs"));
  }
  SECTION("negative weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = GENERATE(-0.1, std::numeric_limits<double>::quiet_NaN());
    REQUIRE_THROWS_AS(make_model<double>(1, options), std::invalid_argument);
    REQUIRE_THROWS_WITH(make_model<double>(1, options), Contains("'weight_decay'"));
  }
}

TEST_CASE("Autoencoder refuses policy options made bad through their fields, naming them",
          "[autoencoder][errors]") {
  // The policies check their options when built, but the options are public fields: the model
  // checks them again with the policy's own check(), so the message is the constructor's.
  latent::Rng rng(1);
  const auto build = [&](const auto& policy) {
    latent::Autoencoder model(Sequential{Dense<double, latent::Sigmoid>(5, 3)},
                              Sequential{Dense<double>(3, 5)}, rng, policy);
  };
  SECTION("MaskingNoise's fraction") {
    latent::MaskingNoise masking(0.3);
    masking.fraction = 1.5;
    REQUIRE_THROWS_AS(build(masking), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(masking), Contains("latent::MaskingNoise") &&
                                            Contains("'fraction'") && Contains("[0, 1]"));
    masking.fraction = 1.0;
    REQUIRE_NOTHROW(build(masking));
  }
  SECTION("GaussianNoise's sigma") {
    latent::GaussianNoise noise(0.2);
    noise.sigma = -1.0;
    REQUIRE_THROWS_AS(build(noise), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(noise), Contains("latent::GaussianNoise") && Contains("'sigma'"));
  }
  SECTION("SaltAndPepper's fraction and bounds") {
    latent::SaltAndPepper noise(0.1);
    noise.fraction = -0.1;
    REQUIRE_THROWS_WITH(build(noise), Contains("latent::SaltAndPepper") && Contains("'fraction'"));
    noise.fraction = 0.1;
    noise.low = 2.0;
    REQUIRE_THROWS_AS(build(noise), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(noise), Contains("'low'"));
  }
  SECTION("KLSparsity's rho and beta") {
    latent::KLSparsity sparsity(0.05, 1.0);
    sparsity.rho = 1.5;
    REQUIRE_THROWS_AS(build(sparsity), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(sparsity), Contains("latent::KLSparsity") && Contains("'rho'") &&
                                             Contains("(0, 1)"));
    sparsity.rho = 0.05;
    sparsity.beta = -1.0;
    REQUIRE_THROWS_WITH(build(sparsity), Contains("'beta'"));
  }
  SECTION("L1Penalty's and ContractivePenalty's lambda") {
    latent::L1Penalty l1(0.1);
    l1.lambda = -0.1;
    REQUIRE_THROWS_AS(build(l1), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(l1), Contains("latent::L1Penalty") && Contains("'lambda'"));
    latent::ContractivePenalty contractive(0.1);
    contractive.lambda = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_AS(build(contractive), std::invalid_argument);
    REQUIRE_THROWS_WITH(build(contractive),
                        Contains("latent::ContractivePenalty") && Contains("'lambda'"));
  }
}

TEMPLATE_TEST_CASE("Autoencoder's inference refuses bad input and bad outputs", "[autoencoder]",
                   float, double) {
  auto model = make_model<TestType>(2);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, 4, 24);

  SECTION("data with the wrong number of rows") {
    const Matrix<TestType> wrong = latent::testing::uniform_matrix<TestType>(4, 4, 24);
    REQUIRE_THROWS_AS(model.encode(wrong), std::invalid_argument);
    REQUIRE_THROWS_WITH(model.encode(wrong), Contains("4 rows") && Contains("takes 5"));
    REQUIRE_THROWS_AS(model.reconstruct(wrong), std::invalid_argument);
    REQUIRE_THROWS_AS(model.loss(wrong), std::invalid_argument);
    REQUIRE_THROWS_AS(model.decode(wrong), std::invalid_argument);  // codes have 2 rows
    latent::Rng rng(0);
    REQUIRE_THROWS_AS(model.train_batch(wrong, rng), std::invalid_argument);
  }
  SECTION("NaN or infinity in the data, named by position") {
    Matrix<TestType> bad = X;
    bad(2, 3) = GENERATE(std::numeric_limits<TestType>::quiet_NaN(),
                         std::numeric_limits<TestType>::infinity());
    REQUIRE_THROWS_AS(model.encode(bad), std::invalid_argument);
    REQUIRE_THROWS_WITH(model.encode(bad), Contains("row 2") && Contains("column 3"));
    REQUIRE_THROWS_WITH(model.reconstruct(bad), Contains("row 2") && Contains("column 3"));
    REQUIRE_THROWS_WITH(model.loss(bad), Contains("row 2") && Contains("column 3"));
    Matrix<TestType> bad_codes = Matrix<TestType>::Zero(2, 3);
    bad_codes(1, 0) = std::numeric_limits<TestType>::quiet_NaN();
    REQUIRE_THROWS_WITH(model.decode(bad_codes), Contains("row 1") && Contains("column 0"));
  }
  SECTION("an output buffer of the wrong shape") {
    Matrix<TestType> codes(2, 3);  // 3 columns for 4 samples
    REQUIRE_THROWS_AS(model.encode(X, codes), std::invalid_argument);
    REQUIRE_THROWS_WITH(model.encode(X, codes), Contains("2 x 3") && Contains("2 x 4"));
    Matrix<TestType> rows(3, 4);  // 3 rows for codes of 2
    REQUIRE_THROWS_AS(model.encode(X, rows), std::invalid_argument);
    Matrix<TestType> out(4, 4);
    REQUIRE_THROWS_AS(model.reconstruct(X, out), std::invalid_argument);
    REQUIRE_THROWS_AS(model.decode(Matrix<TestType>::Zero(2, 4), out), std::invalid_argument);
  }
  SECTION("no samples for the loss or a training step") {
    const Matrix<TestType> empty(5, 0);
    REQUIRE_THROWS_AS(model.loss(empty), std::invalid_argument);
    latent::Rng rng(0);
    REQUIRE_THROWS_AS(model.train_batch(empty, rng), std::invalid_argument);
  }
}

TEMPLATE_TEST_CASE("A copied Autoencoder is independent of the original", "[autoencoder]", float,
                   double) {
  auto original = make_model<TestType>(8);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, 12, 25);
  const latent::Vector<TestType> parameters = original.parameters();
  const Matrix<TestType> reconstructions = original.reconstruct(X);
  const TestType loss = original.loss(X);

  auto copy = original;
  REQUIRE(copy.parameters() == parameters);
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(0);
  for (int step = 0; step < 5; ++step) {
    copy.train_batch(X, rng);
    adam.step(copy.parameters(), copy.gradients());
  }
  REQUIRE(copy.parameters() != parameters);
  REQUIRE(copy.loss(X) < loss);

  // The original's parameters and results are those from before the copy.
  REQUIRE(original.parameters() == parameters);
  REQUIRE(original.reconstruct(X) == reconstructions);
  REQUIRE(original.loss(X) == loss);
  // ... and the original still trains, on its own parameters.
  const TestType objective = original.train_batch(X, rng);
  REQUIRE_THAT(static_cast<double>(objective),
               WithinRel(static_cast<double>(loss), tolerance<TestType>()));
  REQUIRE(original.gradients().allFinite());

  SECTION("copy assignment") {
    auto other = make_model<TestType>(9);
    other = original;
    REQUIRE(other.parameters() == parameters);
    other.parameters()(0) += TestType(1);
    REQUIRE(original.parameters() == parameters);
    REQUIRE(other.reconstruct(X) != reconstructions);
  }
}

TEMPLATE_TEST_CASE("A move-constructed Autoencoder works and the moved-from one can be reassigned",
                   "[autoencoder]", float, double) {
  auto source = make_model<TestType>(10);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, 12, 26);
  const latent::Vector<TestType> parameters = source.parameters();
  const Matrix<TestType> reconstructions = source.reconstruct(X);

  Model<TestType> moved(std::move(source));
  REQUIRE(moved.parameters() == parameters);
  REQUIRE(moved.reconstruct(X) == reconstructions);
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(0);
  const TestType before = moved.loss(X);
  for (int step = 0; step < 5; ++step) {
    moved.train_batch(X, rng);
    adam.step(moved.parameters(), moved.gradients());
  }
  REQUIRE(moved.loss(X) < before);

  source = moved;  // a moved-from model takes a new value
  REQUIRE(source.parameters() == moved.parameters());
  REQUIRE(source.reconstruct(X) == moved.reconstruct(X));
}

TEMPLATE_TEST_CASE("Autoencoder's inference into buffers allocates nothing once warm",
                   "[autoencoder][allocation]", float, double) {
  // encode(X, codes) says so; decode and reconstruct into a buffer work the same way.
  auto model = make_model<TestType>(11);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(5, 300, 27);
  Matrix<TestType> codes(2, 300), out(5, 300);
  model.encode(X, codes);  // warm-up: the workspaces grow to a full 256-column block
  model.decode(codes, out);
  std::size_t encode = 0, decode = 0, reconstruct = 0;
  {
    latent::testing::NoAllocationScope scope;
    model.encode(X, codes);
    encode = scope.allocations();
  }
  {
    latent::testing::NoAllocationScope scope;
    model.decode(codes, out);
    decode = scope.allocations();
  }
  {
    latent::testing::NoAllocationScope scope;
    model.reconstruct(X.leftCols(17), out.leftCols(17));
    reconstruct = scope.allocations();
  }
  CHECK(encode == 0);
  CHECK(decode == 0);
  CHECK(reconstruct == 0);
}
