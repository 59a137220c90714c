#include <latent/latent.hpp>
#include <latent/io/model_file.hpp>

#include <cstdint>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

// Image layers inside the models: a whole convolutional autoencoder (plain, sparse, with pooling
// and upsampling, and as a VAE's body) against central differences of its objective, a
// steady-state step without allocation, learning on synthetic images, anomaly detection and a
// classifier head on its code, and its model file name.

namespace {

using latent::Conv2d;
using latent::ConvTranspose2d;
using latent::Dense;
using latent::Flatten;
using latent::Index;
using latent::Kernel;
using latent::Reshape;
using latent::Sequential;

template <class S>
using Matrix = latent::Matrix<S>;

/// 1x6x6 -> 2x3x3 -> code -> 2x3x3 -> 1x6x6 by strided convolutions.
template <class S, class Hidden = latent::Tanh>
auto strided_encoder(Index code) {
  return Sequential{Conv2d<S, Hidden>({1, 6, 6}, 2, Kernel(3).stride(2).padding(1)),
                    Flatten<S>({2, 3, 3}), Dense<S, Hidden>(18, code)};
}
template <class S, class Hidden = latent::Tanh>
auto strided_decoder(Index code) {
  return Sequential{Dense<S, Hidden>(code, 18), Reshape<S>({2, 3, 3}),
                    ConvTranspose2d<S, latent::Sigmoid>({2, 3, 3}, 1, Kernel(4).stride(2).padding(1))};
}

/// The same shapes through pooling and upsampling.
template <class S>
auto pooling_encoder(Index code) {
  return Sequential{Conv2d<S, latent::Tanh>({1, 6, 6}, 2, Kernel(3).padding(1)),
                    latent::MaxPool2d<S>({2, 6, 6}, 2), Flatten<S>({2, 3, 3}),
                    Dense<S, latent::Tanh>(18, code)};
}
template <class S>
auto pooling_decoder(Index code) {
  return Sequential{Dense<S, latent::Tanh>(code, 18), Reshape<S>({2, 3, 3}),
                    latent::Upsample2d<S>({2, 3, 3}, 2),
                    Conv2d<S, latent::Sigmoid>({2, 6, 6}, 1, Kernel(3).padding(1))};
}

/// Relative error of train_batch's gradient against central differences of its objective,
/// parameters moved off their initial values (biases start at 0).
template <class Model>
double gradient_error(Model& model, const Matrix<double>& X) {
  latent::Rng rng(99);
  model.parameters() +=
      latent::testing::uniform_matrix<double>(model.parameter_count(), 1, 7, -0.3, 0.3);
  model.train_batch(X.rowwise().reverse(), rng);  // its gradient must not linger
  model.train_batch(X, rng);
  const Eigen::VectorXd analytic = model.gradients();
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return model.train_batch(X, rng); }, model.parameters());
  REQUIRE(analytic.norm() > 1e-3);
  return latent::testing::relative_error(analytic, numeric);
}

/// n 1x8x8 images of a bright bar, 2 wide, on a dim background, and which way each runs
/// (1 = horizontal); with `crosses`, each image has both bars instead, an anomaly to bars.
struct Bars {
  Matrix<float> images;
  latent::Labels horizontal;
};
Bars bars(Index n, std::uint64_t seed, bool crosses = false) {
  latent::Rng rng(seed);
  std::uniform_int_distribution<int> position(0, 6), direction(0, 1);
  Bars out{Matrix<float>::Constant(64, n, 0.1f), latent::Labels(n)};
  for (Index j = 0; j < n; ++j) {
    const int at = position(rng), across = position(rng);
    out.horizontal(j) = direction(rng);
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 8; ++b) {
        if (out.horizontal(j) == 1 || crosses) out.images((at + a) * 8 + b, j) = 0.9f;
        if (out.horizontal(j) == 0 || crosses) out.images(b * 8 + across + a, j) = 0.9f;
      }
  }
  return out;
}

auto bars_encoder() {
  return Sequential{Conv2d<float, latent::ReLU>({1, 8, 8}, 8, Kernel(3).stride(2).padding(1)),
                    Flatten<float>({8, 4, 4}), Dense<float>(128, 2)};
}
auto bars_decoder() {
  return Sequential{Dense<float, latent::ReLU>(2, 128), Reshape<float>({8, 4, 4}),
                    ConvTranspose2d<float, latent::Sigmoid>({8, 4, 4}, 1,
                                                            Kernel(4).stride(2).padding(1))};
}

}  // namespace

TEST_CASE("A convolutional autoencoder's gradient matches finite differences of its objective",
          "[conv_autoencoder][gradient]") {
  latent::Rng rng(5);
  const Matrix<double> X = latent::testing::uniform_matrix<double>(36, 3, 11, 0.05, 0.95);
  SECTION("strided convolutions, mean squared error") {
    latent::Autoencoder model(strided_encoder<double>(3), strided_decoder<double>(3), rng);
    CHECK(gradient_error(model, X) < 1e-6);
  }
  SECTION("strided convolutions, cross-entropy and weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = 0.05;
    latent::Autoencoder model(strided_encoder<double>(3), strided_decoder<double>(3), rng,
                              latent::BinaryCrossEntropy{}, options);
    CHECK(gradient_error(model, X) < 1e-6);
  }
  SECTION("pooling and upsampling, sparse code") {
    latent::Autoencoder model(pooling_encoder<double>(3), pooling_decoder<double>(3), rng,
                              latent::L1Penalty(0.1));
    CHECK(gradient_error(model, X) < 1e-6);
  }
  SECTION("a VAE with a convolutional body") {
    latent::VariationalAutoencoder vae(
        Sequential{Conv2d<double, latent::Tanh>({1, 6, 6}, 2, Kernel(3).stride(2).padding(1)),
                   Flatten<double>({2, 3, 3})},
        2, strided_decoder<double>(2), rng);
    vae.parameters() += latent::testing::uniform_matrix<double>(vae.parameter_count(), 1, 8, -0.3, 0.3);
    const Matrix<double> eps = latent::testing::uniform_matrix<double>(2, 3, 12);
    vae.train_batch_with_noise(X, eps);
    const Eigen::VectorXd analytic = vae.gradients();
    const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
        [&] { return vae.train_batch_with_noise(X, eps); }, vae.parameters());
    REQUIRE(analytic.norm() > 1e-3);
    CHECK(latent::testing::relative_error(analytic, numeric) < 1e-6);
  }
}

TEMPLATE_TEST_CASE("A convolutional autoencoder's training step allocates nothing once warm",
                   "[conv_autoencoder][allocation]", float, double) {
  using S = TestType;
  latent::Rng rng(6);
  latent::Autoencoder model(pooling_encoder<S>(4), pooling_decoder<S>(4), rng);
  const Matrix<S> X = latent::testing::uniform_matrix<S>(36, 16, 13, 0, 1);
  model.train_batch(X, rng);
  model.train_batch(X.leftCols(5), rng);
  std::size_t allocations = 0;
  {
    const latent::testing::NoAllocationScope scope;
    model.train_batch(X, rng);
    model.train_batch(X.leftCols(5), rng);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
}

TEST_CASE("Convolutional autoencoders of every kind learn images of bars",
          "[conv_autoencoder][learning]") {
  // 1x8x8 bars, a 2-number code: trained, it says where the bar is and which way it runs, and
  // the test error falls below a tenth of the untrained model's (to about a twentieth here).
  const Matrix<float> train = bars(512, 21).images, test = bars(256, 22).images;
  latent::FitOptions options;
  options.epochs = 150;
  const auto learned = [&](auto model, latent::Rng& rng) {
    const double before = model.loss(test);
    latent::Adam<float> adam(3e-3);
    latent::fit(model, adam, train, options, rng);
    const double after = model.loss(test);
    INFO("squared error per image " << before << " -> " << after);
    return after / before;
  };
  latent::Rng rng(23);
  CHECK(learned(latent::Autoencoder(bars_encoder(), bars_decoder(), rng), rng) < 0.1);
  CHECK(learned(latent::Autoencoder(bars_encoder(), bars_decoder(), rng, latent::MaskingNoise(0.2)),
                rng) < 0.1);
  CHECK(learned(latent::Autoencoder(bars_encoder(), bars_decoder(), rng, latent::L1Penalty(1e-3)),
                rng) < 0.1);
}

TEST_CASE("A trained convolutional autoencoder serves the anomaly detector and a classifier head",
          "[conv_autoencoder][anomaly][transfer]") {
  const Bars train = bars(512, 31), test = bars(256, 32), crosses = bars(256, 33, true);
  latent::Rng rng(34);
  latent::Autoencoder model(bars_encoder(), bars_decoder(), rng);
  latent::Adam<float> adam(3e-3);
  latent::FitOptions options;
  options.epochs = 150;
  latent::fit(model, adam, train.images, options, rng);

  SECTION("crosses reconstruct badly through a code trained on single bars") {
    latent::AnomalyDetector detector(latent::reconstruction_error(std::as_const(model)));
    detector.fit(train.images, 0.99);
    const double crosses_flagged = detector.predict(crosses.images).cast<double>().mean();
    const double bars_flagged = detector.predict(test.images).cast<double>().mean();
    INFO("flagged: crosses " << crosses_flagged << ", bars " << bars_flagged);
    CHECK(crosses_flagged > 0.9);
    CHECK(bars_flagged < 0.05);
  }
  SECTION("a head on the frozen code, then the encoder under it, tell which way a bar runs") {
    using Head = latent::FeedForward<Sequential<Dense<float, latent::Tanh>, Dense<float>>,
                                     latent::SoftmaxCrossEntropy>;
    Head head(Sequential{Dense<float, latent::Tanh>(2, 16), Dense<float>(16, 2)}, rng);
    const auto accuracy = [&](auto& classifier) {
      const Matrix<float> logits = classifier.predict(test.images);
      const latent::Labels predicted = (logits.row(1).array() > logits.row(0).array()).cast<int>();
      return (predicted.array() == test.horizontal.array()).cast<double>().mean();
    };
    latent::Adam<float> head_adam(1e-2);
    latent::fit(head, head_adam, model.encode(train.images), train.horizontal, options, rng);
    auto classifier = latent::with_head(model, head);
    const double frozen = accuracy(classifier);
    latent::Adam<float> slow(1e-3);
    options.epochs = 20;
    latent::fit(classifier, slow, train.images, train.horizontal, options, rng);
    const double tuned = accuracy(classifier);
    INFO("accuracy: frozen code " << frozen << ", fine-tuned " << tuned);
    CHECK(frozen > 0.95);
    CHECK(tuned > 0.95);
  }
}

TEST_CASE("A model file names a convolutional model's image layers and shapes",
          "[conv_autoencoder][model_file]") {
  latent::Rng rng(7);
  latent::Autoencoder model(strided_encoder<float, latent::LeakyReLU>(3),
                            strided_decoder<float>(3), rng);
  const std::string text = latent::io::architecture(model);
  CHECK_THAT(text, Catch::Matchers::Contains(
                       "Conv2d<LeakyReLU(slope=0.01)>(1x6x6 -> 2x3x3, kernel 3, stride 2, "
                       "padding 1), Flatten(2x3x3)"));
  CHECK_THAT(text, Catch::Matchers::Contains(
                       "Reshape(2x3x3), ConvTranspose2d<Sigmoid>(2x3x3 -> 1x6x6, kernel 4"));
}
