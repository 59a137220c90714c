#include <latent/models/supervised.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
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
using latent::Labels;
using latent::Matrix;
using latent::Sequential;
using latent::Tanh;

// 6 -> 3 code -> 6 (sigmoid output, cross-entropy), and a head 3 -> classes logits.
template <class S>
using Encoder = Sequential<Dense<S, Tanh>>;
template <class S>
using Decoder = Sequential<Dense<S, latent::Sigmoid>>;
template <class S>
using Head = Sequential<Dense<S, Tanh>, Dense<S>>;
template <class S, class HeadKind = latent::Classes>
using Model = latent::SupervisedAutoencoder<Encoder<S>, Decoder<S>, Head<S>,
                                            latent::BinaryCrossEntropy, HeadKind>;

template <class S, class HeadKind = latent::Classes>
Model<S, HeadKind> make_model(std::uint64_t seed, latent::SupervisedOptions options,
                              Index classes = 4) {
  latent::Rng rng(seed);
  return Model<S, HeadKind>(Encoder<S>(Dense<S, Tanh>(6, 3)),
                            Decoder<S>(Dense<S, latent::Sigmoid>(3, 6)),
                            Head<S>(Dense<S, Tanh>(3, 5), Dense<S>(5, classes)), rng, options);
}

// The const path against the workspace path: equal but for a few roundings (their GEMMs may
// block a product differently once a workspace has held a larger batch).
template <class S>
bool same_up_to_rounding(const Matrix<S>& actual, const Matrix<S>& expected) {
  const S tolerance = 8 * std::numeric_limits<S>::epsilon();
  return actual.rows() == expected.rows() && actual.cols() == expected.cols() &&
         ((actual - expected).array().abs() <= tolerance * expected.array().abs().max(S(1))).all();
}

// Labels of 8 samples, three of them unknown.
Labels some_labelled(int classes) {
  Labels labels(8);
  labels << 0, latent::unlabelled, classes - 1, 1 % classes, latent::unlabelled, 0,
      latent::unlabelled, classes - 1;
  return labels;
}

template <class M>
double gradient_error(M& model, const Matrix<double>& X, const Labels& labels) {
  latent::Rng rng(0);
  model.parameters() += latent::testing::uniform_matrix(model.parameter_count(), 1, 3, -0.3, 0.3);
  model.train_batch(X, labels, rng);
  const Eigen::VectorXd analytic = model.gradients();
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return model.train_batch(X, labels, rng); }, model.parameters());
  REQUIRE(analytic.norm() > 1e-3);
  return latent::testing::relative_error(analytic, numeric);
}

// Where each part's parameters lie in the arena: encoder, decoder, head.
template <class M>
Eigen::VectorXd part(const M& model, int which) {
  const Index encoder = model.encoder().parameter_count();
  const Index decoder = model.decoder().parameter_count();
  if (which == 0) return model.gradients().head(encoder).template cast<double>();
  if (which == 1) return model.gradients().segment(encoder, decoder).template cast<double>();
  return model.gradients().tail(model.head().parameter_count()).template cast<double>();
}

}  // namespace

TEST_CASE("SupervisedAutoencoder's gradient matches finite differences of its objective",
          "[supervised][gradient]") {
  const Matrix<double> X = latent::testing::uniform_matrix(6, 8, 11, 0.0, 1.0);
  const double alpha = GENERATE(0.0, 0.3, 1.0);
  const double decay = GENERATE(0.0, 0.05);
  INFO("alpha " << alpha << ", weight decay " << decay);
  const latent::SupervisedOptions options{alpha, decay};

  SECTION("a softmax head over four classes") {
    auto model = make_model<double>(1, options);
    REQUIRE(gradient_error(model, X, some_labelled(4)) < 1e-6);
  }
  SECTION("a sigmoid head for a binary label") {
    auto model = make_model<double, latent::BinaryLabel>(2, options, 1);
    REQUIRE(gradient_error(model, X, some_labelled(2)) < 1e-6);
  }
}

TEST_CASE("SupervisedAutoencoder weighs reconstruction over all samples and classification "
          "over the labelled ones",
          "[supervised]") {
  const Matrix<double> X = latent::testing::uniform_matrix(6, 8, 12, 0.0, 1.0);
  const Labels labels = some_labelled(4);
  auto model = make_model<double>(3, {0.3, 0.0});
  latent::Rng rng(0);

  // The same objective from the public pieces: the mean cross-entropy of the reconstructions
  // over all 8 samples, and the mean softmax cross-entropy of the 5 labelled samples' logits.
  const double reconstruction = latent::BinaryCrossEntropy::value(model.reconstruct(X), X);
  Matrix<double> labelled_logits(4, 5);
  Labels known(5);
  const Matrix<double> logits = model.predict(X);
  for (Index j = 0, k = 0; j < 8; ++j)
    if (labels(j) != latent::unlabelled) {
      labelled_logits.col(k) = logits.col(j);
      known(k++) = labels(j);
    }
  const double classification = latent::SoftmaxCrossEntropy::value(labelled_logits, known);
  const double expected = 0.3 * reconstruction + 0.7 * classification;
  REQUIRE_THAT(model.train_batch(X, labels, rng), WithinRel(expected, 1e-12));
  REQUIRE_THAT(model.loss(X, labels), WithinRel(expected, 1e-12));

  SECTION("a batch without labels trains encoder and decoder only") {
    const Labels none = Labels::Constant(8, latent::unlabelled);
    REQUIRE_THAT(model.train_batch(X, none, rng), WithinRel(0.3 * reconstruction, 1e-12));
    REQUIRE(part(model, 2).isZero(0.0));
    REQUIRE(part(model, 0).norm() > 1e-6);
    REQUIRE(part(model, 1).norm() > 1e-6);
  }
  SECTION("alpha = 1 leaves the head untrained, alpha = 0 the decoder") {
    // Without weight decay: decay would still shrink the weights of the part left out.
    auto reconstruction_only = make_model<double>(3, {1.0, 0.0});
    REQUIRE_THAT(reconstruction_only.train_batch(X, labels, rng), WithinRel(reconstruction, 1e-12));
    REQUIRE(part(reconstruction_only, 2).isZero(0.0));
    auto classification_only = make_model<double>(3, {0.0, 0.0});
    REQUIRE_THAT(classification_only.train_batch(X, labels, rng), WithinRel(classification, 1e-12));
    REQUIRE(part(classification_only, 1).isZero(0.0));
    REQUIRE(part(classification_only, 0).norm() > 1e-6);
  }
}

TEST_CASE("SupervisedAutoencoder's loss over many blocks is train_batch's objective on the whole",
          "[supervised]") {
  // 600 samples: loss() runs in blocks of 256 columns, train_batch in one; with every sample
  // labelled, both are the same means.
  const Matrix<double> X = latent::testing::uniform_matrix(6, 600, 14, 0.0, 1.0);
  const Labels labels = latent::testing::random_labels(600, 4, 15);
  auto model = make_model<double>(5, {0.4, 0.0});
  latent::Rng rng(0);
  REQUIRE_THAT(model.loss(X, labels), WithinRel(model.train_batch(X, labels, rng), 1e-12));
}

TEST_CASE("SupervisedAutoencoder deduces its loss and head policy from its arguments",
          "[supervised]") {
  latent::Rng rng(0);
  latent::SupervisedAutoencoder model(Sequential{Dense<float>(6, 3)},
                                      Sequential{Dense<float, latent::Sigmoid>(3, 6)},
                                      Sequential{Dense<float>(3, 1)}, rng, latent::BinaryLabel{},
                                      latent::BinaryCrossEntropy{});
  STATIC_REQUIRE(std::is_same_v<decltype(model)::HeadKindType, latent::BinaryLabel>);
  STATIC_REQUIRE(std::is_same_v<decltype(model)::LossType, latent::BinaryCrossEntropy>);
  latent::SupervisedAutoencoder plain(Sequential{Dense<float>(6, 3)}, Sequential{Dense<float>(3, 6)},
                                      Sequential{Dense<float>(3, 5)}, rng);
  STATIC_REQUIRE(std::is_same_v<decltype(plain)::HeadKindType, latent::Classes>);
  STATIC_REQUIRE(std::is_same_v<decltype(plain)::LossType, latent::MeanSquaredError>);
}

TEMPLATE_TEST_CASE("A SupervisedAutoencoder learns three classes from one label in ten",
                   "[supervised][fit]", float, double) {
  // Three well-separated blobs in the plane, lifted into 8 dimensions by a fixed linear map and
  // squashed into (0, 1); only every tenth sample keeps its label.
  const Index n = 300;
  const Matrix<TestType> lift = latent::testing::uniform_matrix<TestType>(8, 2, 5);
  const Matrix<TestType> noise = latent::testing::uniform_matrix<TestType>(2, n, 6, -0.5, 0.5);
  const double centres[3][2] = {{2.0, 0.0}, {-1.0, 1.7320508}, {-1.0, -1.7320508}};
  Matrix<TestType> plane(2, n);
  Labels truth(n), labels(n);
  for (Index j = 0; j < n; ++j) {
    const int c = static_cast<int>(j % 3);
    truth(j) = c;
    labels(j) = j % 10 == 0 ? c : latent::unlabelled;
    plane(0, j) = static_cast<TestType>(centres[c][0]) + noise(0, j);
    plane(1, j) = static_cast<TestType>(centres[c][1]) + noise(1, j);
  }
  const Matrix<TestType> X = (lift * plane).array().logistic();

  latent::Rng rng(9);
  latent::SupervisedAutoencoder model(
      Sequential{Dense<TestType, Tanh>(8, 2)}, Sequential{Dense<TestType, latent::Sigmoid>(2, 8)},
      Sequential{Dense<TestType>(2, 3)}, rng, latent::BinaryCrossEntropy{},
      latent::SupervisedOptions{0.5, 0.0});
  const auto accuracy = [&] {
    const Matrix<TestType> logits = model.predict(X);
    Index correct = 0;
    for (Index j = 0; j < n; ++j) {
      Index predicted = 0;
      logits.col(j).maxCoeff(&predicted);
      correct += predicted == truth(j);
    }
    return static_cast<double>(correct) / static_cast<double>(n);
  };
  const double untrained = accuracy();
  latent::Adam<TestType> adam(0.02);
  latent::FitOptions options;
  options.epochs = 40;
  options.batch_size = 16;
  const latent::History history = latent::fit(model, adam, X, labels, options, rng);

  const double trained = accuracy();
  INFO("accuracy on all samples " << untrained << " untrained, " << trained << " trained; loss "
                                  << history.epochs.front().train_loss << " -> "
                                  << history.last().train_loss);
  REQUIRE(untrained < 0.7);
  REQUIRE(trained > 0.95);
  REQUIRE(history.last().train_loss < history.epochs.front().train_loss);
}

TEMPLATE_TEST_CASE("A const SupervisedAutoencoder's inference agrees with the workspace path",
                   "[supervised]", float, double) {
  using S = TestType;
  auto model = make_model<S>(6, {0.5, 0.0});
  const auto& shared = model;
  const Index n = GENERATE(1, 600);  // 600: two full inference blocks and a ragged one
  INFO(n << " columns");
  const Matrix<S> X = latent::testing::uniform_matrix<S>(6, n, 15, 0.0, 1.0);
  CHECK(same_up_to_rounding(shared.encode(X), model.encode(X)));
  CHECK(same_up_to_rounding(shared.reconstruct(X), model.reconstruct(X)));
  CHECK(same_up_to_rounding(shared.predict(X), model.predict(X)));
  CHECK_THROWS_WITH(shared.predict(Matrix<S>::Zero(5, 2)),
                    Contains("latent::SupervisedAutoencoder::predict") && Contains("5 rows"));
}

TEMPLATE_TEST_CASE("A SupervisedAutoencoder step allocates nothing after warm-up",
                   "[supervised][allocation]", float, double) {
  auto model = make_model<TestType>(4, {0.5, 0.01});
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(6, 8, 13, 0.0, 1.0);
  const Labels labels = some_labelled(4);
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(0);
  for (int warm_up = 0; warm_up < 2; ++warm_up) {
    model.train_batch(X, labels, rng);
    adam.step(model.parameters(), model.gradients());
  }
  const Labels all_labelled = Labels::Zero(8);
  latent::testing::NoAllocationScope scope;
  model.train_batch(X, labels, rng);
  adam.step(model.parameters(), model.gradients());
  model.train_batch(X.leftCols(5), labels.head(5), rng);  // a shorter batch, fewer labels
  model.train_batch(X, all_labelled, rng);  // more labels than any batch before
  REQUIRE(scope.allocations() == 0);
}

TEST_CASE("SupervisedAutoencoder refuses bad options, shapes and labels", "[supervised]") {
  latent::Rng rng(0);
  SECTION("alpha outside [0, 1]") {
    const double alpha = GENERATE(-0.1, 1.5);
    REQUIRE_THROWS_WITH(make_model<double>(1, {alpha, 0.0}), Contains("'alpha' must be in [0, 1]"));
  }
  SECTION("a head that does not take the code") {
    REQUIRE_THROWS_WITH(
        latent::SupervisedAutoencoder(Sequential{Dense<double>(6, 3)}, Sequential{Dense<double>(3, 6)},
                                      Sequential{Dense<double>(4, 2)}, rng),
        Contains("the head takes codes of 4 but the encoder gives 3"));
  }
  SECTION("a BinaryLabel head with two outputs") {
    const auto two_outputs = [] { return make_model<double, latent::BinaryLabel>(1, {}, 2); };
    REQUIRE_THROWS_WITH(two_outputs(), Contains("a BinaryLabel head gives one logit, not 2"));
  }
  SECTION("a Classes head with one output") {
    const auto one_output = [] { return make_model<double>(1, {}, 1); };
    REQUIRE_THROWS_WITH(one_output(), Contains("a Classes head needs one logit per class, at least 2"));
  }
  SECTION("labels that are neither unlabelled nor a class") {
    auto model = make_model<double>(1, {});
    const Matrix<double> X = latent::testing::uniform_matrix(6, 8, 12, 0.0, 1.0);
    Labels labels = some_labelled(4);
    labels(2) = GENERATE(-2, 4);
    latent::Adam<double> adam(0.01);
    latent::FitOptions options;
    options.epochs = 1;
    const Eigen::VectorXd before = model.parameters();
    REQUIRE_THROWS_WITH(latent::fit(model, adam, X, labels, options, rng),
                        Contains("of sample 2 is neither latent::unlabelled (-1) nor a class"));
    REQUIRE(model.parameters() == before);
    REQUIRE_THROWS_AS(model.loss(X, labels), std::invalid_argument);
  }
  SECTION("a binary label other than 0 or 1") {
    auto model = make_model<double, latent::BinaryLabel>(1, {}, 1);
    const Matrix<double> X = latent::testing::uniform_matrix(6, 8, 12, 0.0, 1.0);
    Labels labels = some_labelled(2);
    labels(0) = 2;
    REQUIRE_THROWS_WITH(model.loss(X, labels), Contains("label 2 of sample 0"));
  }
  SECTION("as many labels as samples") {
    auto model = make_model<double>(1, {});
    const Matrix<double> X = latent::testing::uniform_matrix(6, 8, 12, 0.0, 1.0);
    REQUIRE_THROWS_WITH(model.train_batch(X, some_labelled(4).head(7), rng),
                        Contains("7 labels for 8 samples"));
  }
}
