#include <latent/models/transfer.hpp>

#include <stdexcept>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/feed_forward.hpp>
#include <latent/models/supervised.hpp>
#include <latent/optim/adam.hpp>
#include <latent/train/fit.hpp>

#include <catch2/catch.hpp>

#include "support/data.hpp"

namespace {

using Catch::Matchers::Contains;
using latent::Dense;
using latent::Labels;
using latent::Matrix;
using latent::Sequential;
using latent::Tanh;

using Encoder = Sequential<Dense<double, Tanh>, Dense<double>>;
using Decoder = Sequential<Dense<double, Tanh>, Dense<double, latent::Sigmoid>>;
using Head = latent::FeedForward<Sequential<Dense<double>>, latent::SoftmaxCrossEntropy>;

latent::Autoencoder<Encoder, Decoder, latent::BinaryCrossEntropy> make_autoencoder(
    latent::Rng& rng) {
  return {Encoder(Dense<double, Tanh>(7, 5), Dense<double>(5, 3)),
          Decoder(Dense<double, Tanh>(3, 5), Dense<double, latent::Sigmoid>(5, 7)), rng};
}

}  // namespace

TEST_CASE("with_head runs the trained encoder under the trained head", "[transfer]") {
  latent::Rng rng(1);
  auto autoencoder = make_autoencoder(rng);
  Head head(Sequential{Dense<double>(3, 4)}, rng);
  const Matrix<double> X = latent::testing::uniform_matrix(7, 20, 2, 0.0, 1.0);
  const Labels labels = latent::testing::random_labels(20, 4, 3);

  auto classifier = latent::with_head(autoencoder, head);
  REQUIRE(classifier.parameter_count() ==
          autoencoder.encoder().parameter_count() + head.parameter_count());
  const Matrix<double> expected = head.predict(autoencoder.encode(X));
  REQUIRE(classifier.predict(X).isApprox(expected, 1e-14));

  SECTION("fine-tuning the classifier leaves the autoencoder and the head as they were") {
    const Eigen::VectorXd autoencoder_before = autoencoder.parameters();
    const Eigen::VectorXd head_before = head.parameters();
    latent::Adam<double> adam(0.01);
    latent::FitOptions options;
    options.epochs = 3;
    options.batch_size = 5;
    const double before = classifier.loss(X, labels);
    latent::fit(classifier, adam, X, labels, options, rng);
    REQUIRE(classifier.loss(X, labels) < before);
    REQUIRE(autoencoder.parameters() == autoencoder_before);
    REQUIRE(head.parameters() == head_before);
  }
  SECTION("the encoder of a SupervisedAutoencoder transfers the same way") {
    latent::SupervisedAutoencoder joint(autoencoder.encoder(), autoencoder.decoder(),
                                        Sequential{Dense<double>(3, 4)}, rng,
                                        latent::BinaryCrossEntropy{});
    joint.parameters().head(autoencoder.encoder().parameter_count()) =
        autoencoder.parameters().head(autoencoder.encoder().parameter_count());
    auto from_joint = latent::with_head(joint, head);
    REQUIRE(from_joint.predict(X).isApprox(expected, 1e-14));
  }
}

TEST_CASE("with_head refuses a head that does not take the code", "[transfer]") {
  latent::Rng rng(1);
  const auto autoencoder = make_autoencoder(rng);
  const Head wide(Sequential{Dense<double>(4, 2)}, rng);
  REQUIRE_THROWS_AS(latent::with_head(autoencoder, wide), std::invalid_argument);
  REQUIRE_THROWS_WITH(latent::with_head(autoencoder, wide),
                      Contains("gives 3 outputs but layer 2 Dense") && Contains("takes 4 inputs"));
}
