#include <latent/models/contractive.hpp>

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
#include <latent/layers/tied_dense.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/optim/adam.hpp>
#include <latent/train/fit.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

// The contractive autoencoder: its penalty is lambda times the mean over the batch of the
// squared Frobenius norm of the encoder's Jacobian (checked against a Jacobian by central
// differences of encode), its exact gradient matches finite differences for Sigmoid and Tanh
// encoders, and training with it makes the encoder contract.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;

template <class Model>
double gradient_error(Model& model, const Matrix<double>& X) {
  latent::Rng rng(0);
  model.train_batch(X, rng);
  const Eigen::VectorXd analytic = model.gradients();
  REQUIRE(analytic.norm() > 1e-3);
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return model.train_batch(X, rng); }, model.parameters());
  return latent::testing::relative_error(analytic, numeric);
}

/// Mean over the columns of X of ||dh/dx||_F^2, the Jacobian of model.encode by central
/// differences in the input.
template <class Model>
double mean_jacobian_norm(Model& model, const Matrix<double>& X) {
  const double h = 1e-5;
  double total = 0.0;
  for (Index j = 0; j < X.cols(); ++j) {
    Matrix<double> x = X.col(j);
    for (Index i = 0; i < X.rows(); ++i) {
      const double saved = x(i, 0);
      x(i, 0) = saved + h;
      const Matrix<double> up = model.encode(x);
      x(i, 0) = saved - h;
      const Matrix<double> down = model.encode(x);
      x(i, 0) = saved;
      total += ((up - down) / (2 * h)).squaredNorm();
    }
  }
  return total / static_cast<double>(X.cols());
}

template <class Act>
using Encoder = latent::Sequential<latent::Dense<double, Act>>;
using Decoder = latent::Sequential<latent::Dense<double, latent::Sigmoid>>;

template <class Act>
Encoder<Act> make_encoder(Index inputs = 6, Index code = 4) {
  return Encoder<Act>(latent::Dense<double, Act>(inputs, code));
}
inline Decoder make_decoder(Index code = 4, Index outputs = 6) {
  return Decoder(latent::Dense<double, latent::Sigmoid>(code, outputs));
}

}  // namespace

TEMPLATE_TEST_CASE("ContractivePenalty adds lambda times the mean squared norm of the Jacobian",
                   "[contractive]", latent::Sigmoid, latent::Tanh) {
  const double lambda = GENERATE(0.1, 2.5);
  const std::uint64_t seed = GENERATE(1, 2);
  INFO("lambda " << lambda << ", seed " << seed);
  latent::Rng rng(seed);
  latent::Autoencoder plain(make_encoder<TestType>(), make_decoder(), rng);
  latent::Autoencoder contractive(make_encoder<TestType>(), make_decoder(), rng,
                                  latent::ContractivePenalty(lambda));
  contractive.parameters() = plain.parameters();
  const Matrix<double> X = uniform_matrix(6, 5, seed + 10);

  const double jacobian = mean_jacobian_norm(plain, X);
  REQUIRE(jacobian > 0.01);
  const double difference = contractive.train_batch(X, rng) - plain.train_batch(X, rng);
  // Central differences are exact to O(h^2) here.
  CHECK_THAT(difference, WithinRel(lambda * jacobian, 1e-7));
  // Inference loss: the reconstruction alone.
  CHECK(contractive.loss(X) == plain.loss(X));
}

TEMPLATE_TEST_CASE("ContractivePenalty's gradient matches finite differences of the objective",
                   "[contractive][gradient]", latent::Sigmoid, latent::Tanh) {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  const double lambda = GENERATE(0.1, 3.0);
  INFO("seed " << seed << ", lambda " << lambda);
  latent::Rng rng(seed);
  const Matrix<double> X = uniform_matrix(6, 7, seed + 10, 0.05, 0.95);

  SECTION("MeanSquaredError") {
    latent::Autoencoder model(make_encoder<TestType>(), make_decoder(), rng,
                              latent::ContractivePenalty(lambda));
    CHECK(gradient_error(model, X) < 1e-6);
  }
  SECTION("BinaryCrossEntropy with weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = 0.05;
    latent::Autoencoder model(make_encoder<TestType>(), make_decoder(), rng,
                              latent::ContractivePenalty(lambda), latent::BinaryCrossEntropy{},
                              options);
    CHECK(gradient_error(model, X) < 1e-6);
  }
  SECTION("a tied decoder: the penalty's weight gradient joins both uses") {
    const Encoder<TestType> encoder = make_encoder<TestType>();
    latent::Autoencoder model(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng,
                              latent::ContractivePenalty(lambda));
    model.decoder().last().bias(model.parameters().data()) = uniform_matrix(6, 1, seed + 20);
    CHECK(gradient_error(model, X) < 1e-6);
  }
  SECTION("a denoising contractive autoencoder, corruption fixed by reseeding") {
    latent::Autoencoder model(make_encoder<TestType>(), make_decoder(), rng,
                              latent::ContractivePenalty(lambda), latent::GaussianNoise(0.2));
    latent::Rng fixed(seed + 30);
    model.train_batch(X, fixed);
    const Eigen::VectorXd analytic = model.gradients();
    const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
        [&] {
          latent::Rng same(seed + 30);
          return model.train_batch(X, same);
        },
        model.parameters());
    CHECK(latent::testing::relative_error(analytic, numeric) < 1e-6);
  }
}

TEST_CASE("Training with ContractivePenalty makes the encoder contract",
          "[contractive][training]") {
  // 60 samples of 6 inputs, Sigmoid code of 4, Adam(0.01), 30 epochs of batches of 20: the
  // penalised encoder's mean ||J||_F^2 ends well under the plain one's.
  const Matrix<double> X = uniform_matrix(6, 60, 4, 0.0, 1.0);
  latent::FitOptions options;
  options.epochs = 30;
  options.batch_size = 20;
  auto train = [&](double lambda) {
    latent::Rng rng(5);
    latent::Autoencoder model(make_encoder<latent::Sigmoid>(), make_decoder(), rng,
                              latent::ContractivePenalty(lambda));
    latent::Adam<double> adam(0.01);
    latent::fit(model, adam, X, options, rng);
    return mean_jacobian_norm(model, X);
  };
  const double plain = train(0.0);
  const double contractive = train(1.0);
  INFO("mean ||J||^2: plain " << plain << ", contractive " << contractive);
  CHECK(contractive < 0.5 * plain);
}

TEST_CASE("ContractivePenalty refuses a bad lambda, naming it", "[contractive][errors]") {
  CHECK_THROWS_AS(latent::ContractivePenalty(-0.1), std::invalid_argument);
  CHECK_THROWS_WITH(latent::ContractivePenalty(-0.1), Contains("'lambda'"));
  CHECK_THROWS_AS(latent::ContractivePenalty(std::numeric_limits<double>::quiet_NaN()),
                  std::invalid_argument);
  CHECK_THROWS_AS(latent::ContractivePenalty(std::numeric_limits<double>::infinity()),
                  std::invalid_argument);
  CHECK_NOTHROW(latent::ContractivePenalty(0.0));
}

TEST_CASE("The policies-as-arguments constructor deduces a contractive autoencoder",
          "[contractive]") {
  latent::Rng rng(1);
  latent::Autoencoder model(make_encoder<latent::Tanh>(), make_decoder(), rng,
                            latent::ContractivePenalty(0.3));
  using Model = decltype(model);
  static_assert(std::is_same_v<Model::PenaltyType, latent::ContractivePenalty>);
  static_assert(std::is_same_v<Model::LossType, latent::MeanSquaredError>);
  static_assert(std::is_same_v<Model::CorruptionType, latent::NoCorruption>);
  static_assert(std::is_same_v<Model, latent::ContractiveAutoencoder<Encoder<latent::Tanh>, Decoder>>);
  CHECK(model.penalty().lambda == 0.3);

  latent::Autoencoder bce(make_encoder<latent::Sigmoid>(), make_decoder(), rng,
                          latent::BinaryCrossEntropy{}, latent::ContractivePenalty(0.3));
  static_assert(std::is_same_v<decltype(bce),
                               latent::ContractiveAutoencoder<Encoder<latent::Sigmoid>, Decoder,
                                                              latent::BinaryCrossEntropy>>);
}

TEST_CASE("A contractive autoencoder's steady-state step allocates nothing",
          "[contractive][allocation]") {
  latent::Rng rng(3);
  latent::Autoencoder model(make_encoder<latent::Sigmoid>(), make_decoder(), rng,
                            latent::ContractivePenalty(0.5));
  const Matrix<double> X = uniform_matrix(6, 16, 4);
  model.train_batch(X, rng);  // warm-up
  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    model.train_batch(X.leftCols(9), rng);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
}
