#include <latent/train/fit.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <latent/activations.hpp>
#include <latent/core/error.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/feed_forward.hpp>
#include <latent/optim/adagrad.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/rmsprop.hpp>
#include <latent/optim/sgd.hpp>

#include <catch2/catch.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using latent::Dense;
using latent::FitOptions;
using latent::FitProgress;
using latent::Index;
using latent::Matrix;
using latent::Sequential;
using latent::Tanh;

// An 8 -> 3 -> 8 autoencoder with a Tanh code: 59 parameters.
template <class S>
using Small = latent::Autoencoder<Sequential<Dense<S, Tanh>>, Sequential<Dense<S>>>;

template <class S>
Small<S> small_autoencoder(std::uint64_t seed) {
  latent::Rng rng(seed);
  return Small<S>(Sequential<Dense<S, Tanh>>(Dense<S, Tanh>(8, 3)),
                  Sequential<Dense<S>>(Dense<S>(3, 8)), rng);
}

// 8-dimensional data near a 2-dimensional subspace: X = A Z + noise, A 8 x 2 and Z 2 x n
// uniform in [-1, 1], noise uniform in [-0.01, 0.01].
template <class S>
Matrix<S> near_plane(Index n) {
  const Matrix<S> A = latent::testing::uniform_matrix<S>(8, 2, 1);
  const Matrix<S> Z = latent::testing::uniform_matrix<S>(2, n, 2);
  return A * Z + latent::testing::uniform_matrix<S>(8, n, 3, -0.01, 0.01);
}

FitOptions options(Index epochs, Index batch_size, bool shuffle = true) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  o.shuffle = shuffle;
  return o;
}

// Counts the heap allocations of the steps of one epoch after its first batch (the steady
// state, including a shorter last batch): the scope opens in on_batch_end of batch 0 and closes
// in that of the last batch, so it spans whole train_batch + step + callback iterations.
struct AllocationWatch {
  Index epoch = 1;
  std::optional<latent::testing::NoAllocationScope> scope;
  std::size_t allocations = 0;
  Index watched = 0;

  void on_batch_end(const FitProgress& progress, double) {
    if (progress.epoch != epoch) return;
    if (progress.batch == 0) {
      scope.emplace();
    } else if (scope) {
      ++watched;
      if (progress.batch + 1 == progress.batches) {
        allocations = scope->allocations();
        scope.reset();
      }
    }
  }
};

// Remembers where fit was and the parameters after the last completed step.
template <class S>
struct LastStep {
  explicit LastStep(const latent::Vector<S>& watched) : model_parameters(&watched) {}

  const latent::Vector<S>* model_parameters;
  Index epoch = -1;
  Index batch = -1;
  Index batches = 0;
  latent::Vector<S> parameters;

  void on_batch_end(const FitProgress& progress, double) {
    epoch = progress.epoch;
    batch = progress.batch;
    batches = progress.batches;
    parameters = *model_parameters;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("fit with the same seed gives bit-identical parameters", "[fit]", float,
                   double) {
  const Matrix<TestType> X = near_plane<TestType>(50);
  const auto run = [&](std::uint64_t seed, latent::History& history) {
    auto model = small_autoencoder<TestType>(1);  // the same initial parameters every time
    latent::Adam<TestType> adam(0.01);
    latent::Rng rng(seed);  // only the shuffling differs between seeds
    history = latent::fit(model, adam, X, options(3, 8), rng);
    return model.parameters();
  };
  latent::History first, second, other;
  const latent::Vector<TestType> a = run(42, first);
  const latent::Vector<TestType> b = run(42, second);
  const latent::Vector<TestType> c = run(43, other);
  REQUIRE(a == b);
  REQUIRE(a != c);
  REQUIRE(first.epochs.size() == 3);
  for (std::size_t e = 0; e < 3; ++e) {
    INFO("epoch " << e);
    REQUIRE(first.epochs[e].train_loss == second.epochs[e].train_loss);
  }
}

TEMPLATE_TEST_CASE("fit trains an autoencoder on data near a plane", "[fit]", float, double) {
  const Matrix<TestType> X = near_plane<TestType>(200);
  latent::Rng rng(4);
  latent::Autoencoder model(Sequential{Dense<TestType>(8, 2)}, Sequential{Dense<TestType>(2, 8)},
                            rng);
  latent::Adam<TestType> adam(0.02);
  const double initial = static_cast<double>(model.loss(X));
  const latent::History history = latent::fit(model, adam, X, options(12, 20), rng);
  const double final_loss = static_cast<double>(model.loss(X));

  // Observed (float and double agree to 5 digits): loss 2.794 before training; mean training
  // loss 1.898, 1.020, 0.619, 0.457, 0.365, 0.293, 0.210, 0.134, 0.070, 0.034, 0.014, 0.0051
  // over the 12 epochs; about 0.005 after (0.2% of the initial loss; the noise floor is 4e-4).
  INFO("loss " << initial << " -> " << final_loss);
  REQUIRE(final_loss < 0.01 * initial);
  REQUIRE(history.epochs.size() == 12);
  for (std::size_t e = 1; e < history.epochs.size(); ++e) {
    INFO("epoch " << e);
    REQUIRE(history.epochs[e].train_loss < history.epochs[e - 1].train_loss);
  }
}

TEMPLATE_TEST_CASE("fit keeps a history of one record per epoch", "[fit][history]", float,
                   double) {
  const Matrix<TestType> X = near_plane<TestType>(30);
  auto model = small_autoencoder<TestType>(2);
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(3);
  const Index epochs = GENERATE(1, 5);
  const Index batch_size = GENERATE(8, 64);  // 64: one batch of all 30 samples
  INFO(epochs << " epochs, batches of " << batch_size);
  const latent::History history = latent::fit(model, adam, X, options(epochs, batch_size), rng);

  REQUIRE(history.epochs.size() == static_cast<std::size_t>(epochs));
  REQUIRE_FALSE(history.stopped_early);
  REQUIRE(&history.last() == &history.epochs.back());
  for (std::size_t e = 0; e < history.epochs.size(); ++e) {
    const latent::EpochRecord& record = history.epochs[e];
    INFO("epoch " << e);
    REQUIRE(record.epoch == static_cast<Index>(e));
    REQUIRE(record.seconds > 0.0);
    REQUIRE(record.samples_per_second > 0.0);
    REQUIRE_THAT(record.samples_per_second, WithinRel(30.0 / record.seconds, 1e-12));
    REQUIRE(record.learning_rate == 0.01);
    REQUIRE(std::isnan(record.validation_loss));  // no Validation callback
    REQUIRE(std::isfinite(record.train_loss));
    REQUIRE(record.train_loss > 0.0);
    if (e > 0) REQUIRE(record.train_loss < history.epochs[e - 1].train_loss * 1.05);
  }
}

TEMPLATE_TEST_CASE("fit without shuffling steps through the columns in order", "[fit]", float,
                   double) {
  const Matrix<TestType> X = near_plane<TestType>(30);  // batches of 7: 7, 7, 7, 7, 2
  auto fitted = small_autoencoder<TestType>(5);
  auto manual = small_autoencoder<TestType>(5);
  latent::Adam<TestType> fitted_adam(0.01), manual_adam(0.01);
  latent::Rng fitted_rng(6), manual_rng(6);

  const latent::History history =
      latent::fit(fitted, fitted_adam, X, options(3, 7, false), fitted_rng);

  std::vector<double> means;
  for (int epoch = 0; epoch < 3; ++epoch) {
    double total = 0.0;
    for (Index start = 0; start < 30; start += 7) {
      const Index count = std::min<Index>(7, 30 - start);
      total += static_cast<double>(manual.train_batch(X.middleCols(start, count), manual_rng)) *
               static_cast<double>(count);
      manual_adam.step(manual.parameters(), manual.gradients());
    }
    means.push_back(total / 30.0);
  }
  REQUIRE(fitted.parameters() == manual.parameters());
  for (std::size_t e = 0; e < 3; ++e) {
    INFO("epoch " << e);
    REQUIRE_THAT(history.epochs[e].train_loss, WithinRel(means[e], 1e-12));
  }

  SECTION("and shuffling changes the order") {
    auto shuffled = small_autoencoder<TestType>(5);
    latent::Adam<TestType> adam(0.01);
    latent::Rng rng(6);
    latent::fit(shuffled, adam, X, options(3, 7, true), rng);
    REQUIRE(shuffled.parameters() != manual.parameters());
  }
}

TEMPLATE_TEST_CASE("fit refuses bad data and options, leaving the model untouched", "[fit]",
                   float, double) {
  auto model = small_autoencoder<TestType>(7);
  const latent::Vector<TestType> before = model.parameters();
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(0);
  Matrix<TestType> X = near_plane<TestType>(12);

  SECTION("the wrong number of rows") {
    const Matrix<TestType> seven_rows = X.topRows(7);
    REQUIRE_THROWS_AS(latent::fit(model, adam, seven_rows, options(1, 4), rng),
                      std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::fit(model, adam, seven_rows, options(1, 4), rng),
                        Contains("latent::fit") && Contains("7 rows") && Contains("takes 8"));
  }
  SECTION("no samples") {
    const Matrix<TestType> empty(8, 0);
    REQUIRE_THROWS_AS(latent::fit(model, adam, empty, options(1, 4), rng), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::fit(model, adam, empty, options(1, 4), rng),
                        Contains("no columns"));
  }
  SECTION("NaN or infinity, named by row and column") {
    X(3, 5) = GENERATE(std::numeric_limits<TestType>::quiet_NaN(),
                       std::numeric_limits<TestType>::infinity(),
                       -std::numeric_limits<TestType>::infinity());
    REQUIRE_THROWS_AS(latent::fit(model, adam, X, options(1, 4), rng), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::fit(model, adam, X, options(1, 4), rng),
                        Contains("row 3") && Contains("column 5"));
  }
  SECTION("a batch size of zero or less") {
    const Index batch_size = GENERATE(0, -4);
    REQUIRE_THROWS_AS(latent::fit(model, adam, X, options(1, batch_size), rng),
                      std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::fit(model, adam, X, options(1, batch_size), rng),
                        Contains("'batch_size'"));
  }
  SECTION("zero or negative epochs") {
    const Index epochs = GENERATE(0, -1);
    REQUIRE_THROWS_AS(latent::fit(model, adam, X, options(epochs, 4), rng),
                      std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::fit(model, adam, X, options(epochs, 4), rng),
                        Contains("'epochs'"));
  }
  REQUIRE(model.parameters() == before);
  REQUIRE(adam.steps() == 0);
}

TEST_CASE("fit stops with latent::Error when the loss diverges, naming epoch and batch",
          "[fit]") {
  const Matrix<double> X = latent::testing::uniform_matrix(6, 40, 3);  // 5 batches of 8
  latent::Rng rng(1);
  latent::Autoencoder model(Sequential{Dense<double>(6, 3)}, Sequential{Dense<double>(3, 6)},
                            rng);
  // SGD with a rate of 10 on a linear autoencoder: the weights grow each step until the loss
  // overflows (observed: at epoch 1, batch 0).
  latent::Sgd<double> sgd(10.0);
  LastStep<double> last(model.parameters());
  std::string message;
  try {
    latent::fit(model, sgd, X, options(50, 8), rng, last);
  } catch (const latent::Error& error) {
    message = error.what();
  }
  REQUIRE_FALSE(message.empty());
  // The failing batch is the one after the last completed step.
  const Index epoch = last.batch + 1 == last.batches ? last.epoch + 1 : last.epoch;
  const Index batch = last.batch + 1 == last.batches ? 0 : last.batch + 1;
  INFO(message);
  REQUIRE_THAT(message, Contains("latent::fit") &&
                            Contains("epoch " + std::to_string(epoch) + ", batch " +
                                     std::to_string(batch) + " of 5"));
  // The parameters are those of the last finite step, not the diverged ones.
  REQUIRE(model.parameters().allFinite());
  REQUIRE(model.parameters() == last.parameters);
}

namespace {

// One parameter; its gradient is 1, or NaN on the calls listed, while the loss stays 1.
struct FlakyGradient {
  using Scalar = double;
  latent::Vector<double> values = latent::Vector<double>::Zero(1);
  latent::Vector<double> slopes = latent::Vector<double>::Zero(1);
  std::vector<int> bad_calls;
  int calls = 0;

  Index input_size() const { return 1; }
  latent::Vector<double>& parameters() { return values; }
  const latent::Vector<double>& gradients() const { return slopes; }
  template <class Engine>
  double train_batch(const latent::ConstMatrixRef<double>&, Engine&) {
    const bool bad = std::find(bad_calls.begin(), bad_calls.end(), calls++) != bad_calls.end();
    slopes(0) = bad ? std::numeric_limits<double>::quiet_NaN() : 1.0;
    return 1.0;
  }
};

}  // namespace

TEST_CASE("A NaN gradient behind a finite loss never reaches the parameters", "[fit]") {
  const Matrix<double> X = Matrix<double>::Zero(1, 6);  // 6 batches of 1, in order
  FitOptions options;
  options.epochs = 1;
  options.batch_size = 1;
  options.shuffle = false;
  latent::Rng rng(1);
  latent::Sgd<double> sgd(0.1);

  SECTION("by default fit stops, naming the batch") {
    FlakyGradient model{};
    model.bad_calls = {2, 4};
    REQUIRE_THROWS_WITH(latent::fit(model, sgd, X, options, rng),
                        Contains("the gradient holds NaN or infinity at epoch 0, batch 2 of 6"));
    CHECK_THAT(model.values(0), Catch::Matchers::WithinAbs(-0.2, 1e-12));  // two good steps
  }
  SECTION("skip_batch leaves bad batches out and counts them") {
    FlakyGradient model{};
    model.bad_calls = {2, 4};
    options.on_non_finite = latent::NonFinite::skip_batch;
    const latent::History history = latent::fit(model, sgd, X, options, rng);
    CHECK(history.last().skipped_batches == 2);
    CHECK(history.last().train_loss == 1.0);
    CHECK_THAT(model.values(0), Catch::Matchers::WithinAbs(-0.4, 1e-12));  // four steps of 0.1
    CHECK(model.values.allFinite());
  }
}

TEMPLATE_TEST_CASE("fit stops at the first batch when the data overflow the loss", "[fit]", float,
                   double) {
  // Finite data whose squared error overflows: 1e30^2 in float, 1e200^2 in double.
  const double scale = std::is_same_v<TestType, float> ? 1e30 : 1e200;
  const Matrix<TestType> X =
      latent::testing::uniform_matrix<TestType>(8, 16, 4) * static_cast<TestType>(scale);
  REQUIRE(X.allFinite());
  auto model = small_autoencoder<TestType>(3);
  const latent::Vector<TestType> before = model.parameters();
  latent::Sgd<TestType> sgd(0.01);
  latent::Rng rng(0);
  REQUIRE_THROWS_AS(latent::fit(model, sgd, X, options(2, 4), rng), latent::Error);
  REQUIRE_THROWS_WITH(latent::fit(model, sgd, X, options(2, 4), rng),
                      Contains("epoch 0, batch 0 of 4"));
  REQUIRE(model.parameters() == before);
}

TEMPLATE_TEST_CASE("A training step allocates nothing after warm-up", "[fit][allocation]", float,
                   double) {
  // The test target is compiled with EIGEN_RUNTIME_NO_MALLOC: inside a NoAllocationScope any
  // Eigen heap allocation fails an assertion, and the scope counts every operator new.
  using Encoder = Sequential<Dense<TestType, latent::ReLU>, Dense<TestType, Tanh>>;
  using Decoder = Sequential<Dense<TestType, Tanh>, Dense<TestType, latent::Sigmoid>>;
  const Encoder encoder(Dense<TestType, latent::ReLU>(12, 6), Dense<TestType, Tanh>(6, 3));
  const Decoder decoder(Dense<TestType, Tanh>(3, 6), Dense<TestType, latent::Sigmoid>(6, 12));
  latent::Rng rng(1);
  latent::Autoencoder<Encoder, Decoder> model(encoder, decoder, rng);
  latent::Autoencoder<Encoder, Decoder, latent::BinaryCrossEntropy> bce_model(encoder, decoder,
                                                                              rng);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(12, 32, 2, 0.0, 1.0);

  const auto steady_state = [&](auto& m, auto& optimizer) {
    for (int warm_up = 0; warm_up < 3; ++warm_up) {
      m.train_batch(X, rng);
      optimizer.step(m.parameters(), m.gradients());
    }
    std::size_t full = 0, shorter = 0;
    {
      latent::testing::NoAllocationScope scope;
      m.train_batch(X, rng);
      optimizer.step(m.parameters(), m.gradients());
      full = scope.allocations();
    }
    {
      latent::testing::NoAllocationScope scope;
      m.train_batch(X.leftCols(20), rng);  // a shorter last batch
      optimizer.step(m.parameters(), m.gradients());
      shorter = scope.allocations();
    }
    CHECK(full == 0);
    CHECK(shorter == 0);
  };

  SECTION("MeanSquaredError with Adam") {
    latent::Adam<TestType> adam(1e-3);
    steady_state(model, adam);
  }
  SECTION("BinaryCrossEntropy with AdamW") {
    latent::AdamW<TestType> adamw(1e-3);
    steady_state(bce_model, adamw);
  }
  SECTION("with Nesterov SGD") {
    latent::SgdOptions o;
    o.momentum = 0.9;
    o.nesterov = true;
    latent::Sgd<TestType> sgd(o);
    steady_state(model, sgd);
  }
  SECTION("with RmsProp and momentum") {
    latent::RmsPropOptions o;
    o.momentum = 0.5;
    latent::RmsProp<TestType> rmsprop(o);
    steady_state(model, rmsprop);
  }
  SECTION("with AdaGrad") {
    latent::AdaGrad<TestType> adagrad(0.01);
    steady_state(model, adagrad);
  }
}

TEMPLATE_TEST_CASE("A supervised training step allocates nothing after warm-up",
                   "[fit][allocation]", float, double) {
  latent::Rng rng(1);
  latent::FeedForward<Sequential<Dense<TestType, Tanh>, Dense<TestType>>,
                      latent::SoftmaxCrossEntropy>
      classifier(Sequential{Dense<TestType, Tanh>(6, 8), Dense<TestType>(8, 4)}, rng);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(6, 24, 2);
  const latent::Labels labels = latent::testing::random_labels(24, 4, 3);
  latent::Adam<TestType> adam(1e-3);
  for (int warm_up = 0; warm_up < 3; ++warm_up) {
    classifier.train_batch(X, labels, rng);
    adam.step(classifier.parameters(), classifier.gradients());
  }
  std::size_t full = 0, shorter = 0;
  {
    latent::testing::NoAllocationScope scope;
    classifier.train_batch(X, labels, rng);
    adam.step(classifier.parameters(), classifier.gradients());
    full = scope.allocations();
  }
  {
    latent::testing::NoAllocationScope scope;
    classifier.train_batch(X.leftCols(5), labels.leftCols(5), rng);
    adam.step(classifier.parameters(), classifier.gradients());
    shorter = scope.allocations();
  }
  CHECK(full == 0);
  CHECK(shorter == 0);
}

TEMPLATE_TEST_CASE("fit allocates nothing in the steady state of an epoch", "[fit][allocation]",
                   float, double) {
  const Matrix<TestType> X = near_plane<TestType>(30);  // batches of 8: 8, 8, 8, 6
  auto model = small_autoencoder<TestType>(1);
  latent::Adam<TestType> adam(1e-3);
  latent::Rng rng(2);
  const bool shuffle = GENERATE(true, false);
  INFO("shuffle " << shuffle);
  AllocationWatch watch;
  latent::fit(model, adam, X, options(2, 8, shuffle), rng, watch);
  REQUIRE(watch.watched == 3);  // batches 1, 2 and the shorter batch 3 of the second epoch
  REQUIRE_FALSE(watch.scope.has_value());
  CHECK(watch.allocations == 0);
}

TEST_CASE("fit flushes subnormals while it trains and restores the mode after", "[fit]") {
  if (!latent::FlushDenormals::supported()) {
    WARN("this processor's floating-point mode cannot be set");
    return;
  }
  // A callback sees the mode during training; fit's caller sees its own mode after.
  struct ModeProbe {
    bool flushed = false;
    bool on_epoch_end(const latent::EpochRecord&) {
      volatile float tiny = std::numeric_limits<float>::min();
      flushed = tiny * 0.25f == 0.0f;
      return true;
    }
  };
  auto model = small_autoencoder<float>(1);
  const Matrix<float> X = near_plane<float>(16);
  latent::Sgd<float> sgd(0.01);
  latent::Rng rng(1);
  FitOptions options;
  options.epochs = 1;
  ModeProbe probe;
  latent::fit(model, sgd, X, options, rng, probe);
  CHECK(probe.flushed);
  volatile float tiny = std::numeric_limits<float>::min();
  CHECK(tiny * 0.25f > 0.0f);

  options.flush_denormals = false;
  latent::fit(model, sgd, X, options, rng, probe);
  CHECK_FALSE(probe.flushed);
}
