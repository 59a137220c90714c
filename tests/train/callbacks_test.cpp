#include <latent/train/callbacks.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/feed_forward.hpp>
#include <latent/optim/adam.hpp>
#include <latent/train/fit.hpp>

#include <catch2/catch.hpp>

#include "support/data.hpp"

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using latent::Dense;
using latent::EpochRecord;
using latent::FitOptions;
using latent::FitProgress;
using latent::Index;
using latent::Matrix;
using latent::Sequential;
using latent::Tanh;

// A 6 -> 2 -> 6 autoencoder: 32 parameters.
template <class S>
using Small = latent::Autoencoder<Sequential<Dense<S, Tanh>>, Sequential<Dense<S>>>;

template <class S>
Small<S> small_autoencoder(std::uint64_t seed) {
  latent::Rng rng(seed);
  return Small<S>(Sequential<Dense<S, Tanh>>(Dense<S, Tanh>(6, 2)),
                  Sequential<Dense<S>>(Dense<S>(2, 6)), rng);
}

FitOptions options(Index epochs, Index batch_size) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = batch_size;
  return o;
}

// Plays the part of validation data whose loss follows a script, one value per epoch.
struct ScriptedValidation {
  std::vector<double> losses;
  std::size_t next = 0;

  template <class Model>
  double validation_loss(Model&) {
    return losses.at(next++);
  }
};

// The parameters at the end of every epoch, taken after the epoch's last step (in
// on_batch_end, so before any on_epoch_end, whatever order fit calls those in).
template <class S>
struct EpochSnapshots {
  explicit EpochSnapshots(const latent::Vector<S>& watched) : parameters(&watched) {}

  const latent::Vector<S>* parameters;
  std::vector<latent::Vector<S>> at_end;

  void on_batch_end(const FitProgress& progress, double) {
    if (progress.batch + 1 == progress.batches) at_end.push_back(*parameters);
  }
};

// Records the epochs whose end it saw; asks to stop at `stop_at` (never if negative).
struct EpochLog {
  Index stop_at = -1;
  std::vector<Index> seen;

  bool on_epoch_end(const EpochRecord& record) {
    seen.push_back(record.epoch);
    return record.epoch == stop_at;
  }
};

Index count(const std::string& text, char c) {
  return static_cast<Index>(std::count(text.begin(), text.end(), c));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEMPLATE_TEST_CASE("EarlyStopping stops after patience epochs without improvement and restores "
                   "the best parameters",
                   "[callbacks][early_stopping]", float, double) {
  auto model = small_autoencoder<TestType>(1);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(6, 20, 2);
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(3);
  EpochSnapshots<TestType> snapshots(model.parameters());
  // best at epoch 1, then two epochs without improvement
  ScriptedValidation validation{{5.0, 3.0, 4.0, 4.5, 1.0, 1.0, 1.0, 1.0}};
  latent::EarlyStopping early_stopping(2);

  const latent::History history =
      latent::fit(model, adam, X, options(8, 8), rng, snapshots, validation, early_stopping);

  REQUIRE(history.epochs.size() == 4);
  REQUIRE(history.stopped_early);
  REQUIRE(early_stopping.best_epoch() == 1);
  REQUIRE(early_stopping.best_loss() == 3.0);
  for (std::size_t e = 0; e < 4; ++e)
    REQUIRE(history.epochs[e].validation_loss == validation.losses[e]);
  REQUIRE(snapshots.at_end.size() == 4);
  REQUIRE(snapshots.at_end[3] != snapshots.at_end[1]);  // training moved on after the best epoch
  REQUIRE(model.parameters() == snapshots.at_end[1]);   // and was put back, bit for bit
}

TEMPLATE_TEST_CASE("EarlyStopping watches the training loss without validation data",
                   "[callbacks][early_stopping]", float, double) {
  // An EarlyStopping that sees a training loss falling every epoch never stops.
  auto model = small_autoencoder<TestType>(1);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(6, 20, 2);
  latent::Adam<TestType> adam(0.01);
  latent::Rng rng(3);
  latent::EarlyStopping early_stopping(1);
  const latent::History history = latent::fit(model, adam, X, options(5, 5), rng, early_stopping);
  REQUIRE(history.epochs.size() == 5);
  REQUIRE_FALSE(history.stopped_early);
  REQUIRE(early_stopping.best_epoch() == 4);
  REQUIRE(early_stopping.best_loss() == history.last().train_loss);
}

TEST_CASE("EarlyStopping counts only improvements larger than min_delta",
          "[callbacks][early_stopping]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  // Each epoch improves by 0.05: less than min_delta 0.1, so no epoch after the first counts.
  ScriptedValidation validation{{1.0, 0.95, 0.9, 0.85, 0.8, 0.75}};

  SECTION("with min_delta 0.1 it stops after patience epochs") {
    latent::EarlyStopping early_stopping(2, 0.1);
    const latent::History history =
        latent::fit(model, adam, X, options(6, 10), rng, validation, early_stopping);
    REQUIRE(history.epochs.size() == 3);
    REQUIRE(history.stopped_early);
    REQUIRE(early_stopping.best_epoch() == 0);
  }
  SECTION("without min_delta every epoch is an improvement") {
    latent::EarlyStopping early_stopping(2);
    const latent::History history =
        latent::fit(model, adam, X, options(6, 10), rng, validation, early_stopping);
    REQUIRE(history.epochs.size() == 6);
    REQUIRE_FALSE(history.stopped_early);
    REQUIRE(early_stopping.best_epoch() == 5);
  }
}

TEST_CASE("EarlyStopping without restore_best keeps the last parameters",
          "[callbacks][early_stopping]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  EpochSnapshots<double> snapshots(model.parameters());
  ScriptedValidation validation{{2.0, 3.0, 4.0, 5.0}};
  latent::EarlyStopping early_stopping(2, 0.0, false);
  const latent::History history =
      latent::fit(model, adam, X, options(4, 10), rng, snapshots, validation, early_stopping);
  REQUIRE(history.epochs.size() == 3);
  REQUIRE(history.stopped_early);
  REQUIRE(model.parameters() == snapshots.at_end[2]);
  REQUIRE(model.parameters() != snapshots.at_end[0]);
}

TEST_CASE("A stop at the last epoch is not an early stop", "[callbacks]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  EpochLog log;
  log.stop_at = 3;
  const latent::History history = latent::fit(model, adam, X, options(4, 10), rng, log);
  REQUIRE(history.epochs.size() == 4);
  REQUIRE_FALSE(history.stopped_early);
}

TEST_CASE("EarlyStopping refuses bad options, naming them", "[callbacks][early_stopping]") {
  SECTION("patience") {
    const Index patience = GENERATE(0, -2);
    REQUIRE_THROWS_AS(latent::EarlyStopping(patience), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::EarlyStopping(patience), Contains("'patience'"));
  }
  SECTION("min_delta") {
    const double min_delta = GENERATE(-0.1, std::numeric_limits<double>::quiet_NaN());
    REQUIRE_THROWS_AS(latent::EarlyStopping(3, min_delta), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::EarlyStopping(3, min_delta), Contains("'min_delta'"));
  }
}

TEMPLATE_TEST_CASE("Validation records the validation loss of every epoch",
                   "[callbacks][validation]", float, double) {
  SECTION("an autoencoder") {
    auto model = small_autoencoder<TestType>(1);
    const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(6, 20, 2);
    const Matrix<TestType> X_val = latent::testing::uniform_matrix<TestType>(6, 9, 4);
    latent::Adam<TestType> adam(0.01);
    latent::Rng rng(3);
    // The record that on_epoch_end sees already holds the loss of the model as it is then.
    std::vector<double> at_epoch_end;
    struct Check {
      const Matrix<TestType>* data;
      std::vector<double>* out;
      void on_epoch_end(const EpochRecord&, Small<TestType>& m) {
        out->push_back(static_cast<double>(m.loss(*data)));
      }
    } check{&X_val, &at_epoch_end};
    const latent::History history =
        latent::fit(model, adam, X, options(3, 8), rng, check, latent::Validation(X_val));
    REQUIRE(history.epochs.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      INFO("epoch " << e);
      REQUIRE(history.epochs[e].validation_loss == at_epoch_end[e]);
    }
    REQUIRE(history.epochs[2].validation_loss != history.epochs[0].validation_loss);
    REQUIRE(history.last().validation_loss == static_cast<double>(model.loss(X_val)));
  }
  SECTION("a classifier") {
    latent::Rng rng(3);
    latent::FeedForward<Sequential<Dense<TestType, Tanh>, Dense<TestType>>,
                        latent::SoftmaxCrossEntropy>
        classifier(Sequential{Dense<TestType, Tanh>(4, 5), Dense<TestType>(5, 3)}, rng);
    const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(4, 20, 5);
    const latent::Labels y = latent::testing::random_labels(20, 3, 6);
    const Matrix<TestType> X_val = latent::testing::uniform_matrix<TestType>(4, 7, 7);
    const latent::Labels y_val = latent::testing::random_labels(7, 3, 8);
    latent::Adam<TestType> adam(0.01);
    const latent::History history = latent::fit(classifier, adam, X, y, options(2, 8), rng,
                                                latent::Validation(X_val, y_val));
    REQUIRE(history.epochs.size() == 2);
    REQUIRE(history.last().validation_loss ==
            static_cast<double>(classifier.loss(X_val, y_val)));
  }
}

TEST_CASE("A custom callback with only on_epoch_end returning true stops after the first epoch",
          "[callbacks]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);

  struct StopNow {
    bool on_epoch_end(const EpochRecord&) { return true; }
  };
  const latent::History history = latent::fit(model, adam, X, options(5, 10), rng, StopNow{});
  REQUIRE(history.epochs.size() == 1);
  REQUIRE(history.stopped_early);
  REQUIRE(adam.steps() == 2);  // one epoch of 2 batches

  SECTION("returning false or nothing never stops") {
    struct Never {
      bool on_epoch_end(const EpochRecord&) { return false; }
    };
    struct Silent {
      int calls = 0;
      void on_epoch_end(const EpochRecord&) { ++calls; }
    } silent;
    const latent::History full = latent::fit(model, adam, X, options(3, 10), rng, Never{}, silent);
    REQUIRE(full.epochs.size() == 3);
    REQUIRE_FALSE(full.stopped_early);
    REQUIRE(silent.calls == 3);
  }
  SECTION("the form that also takes the model can stop too") {
    struct StopWithModel {
      bool on_epoch_end(const EpochRecord&, Small<double>& m) { return m.parameters().size() > 0; }
    };
    const latent::History stopped =
        latent::fit(model, adam, X, options(3, 10), rng, StopWithModel{});
    REQUIRE(stopped.epochs.size() == 1);
  }
}

TEST_CASE("Every callback sees the last epoch even when another one stops", "[callbacks]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  EpochLog before, stopper, after;
  stopper.stop_at = 1;
  std::ostringstream out;
  latent::ProgressBar progress(out, false);
  const latent::History history =
      latent::fit(model, adam, X, options(5, 10), rng, before, stopper, progress, after);
  REQUIRE(history.epochs.size() == 2);
  REQUIRE(history.stopped_early);
  const std::vector<Index> both{0, 1};
  REQUIRE(before.seen == both);
  REQUIRE(stopper.seen == both);
  REQUIRE(after.seen == both);
  REQUIRE(lines_of(out.str()).size() == 2);  // the progress bar reported the last epoch too
}

TEST_CASE("Callbacks see where fit is", "[callbacks]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 22, 2);  // batches 8, 8, 6
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  struct Trace {
    std::vector<std::string> events;
    void on_epoch_begin(const FitProgress& p) {
      events.push_back("begin " + std::to_string(p.epoch) + "/" + std::to_string(p.epochs) +
                       " of " + std::to_string(p.batches));
    }
    void on_batch_end(const FitProgress& p, double loss) {
      events.push_back("batch " + std::to_string(p.epoch) + "." + std::to_string(p.batch) +
                       (std::isfinite(loss) && loss > 0.0 ? "" : " bad loss"));
    }
  } trace;
  latent::fit(model, adam, X, options(2, 8), rng, trace);
  const std::vector<std::string> expected{"begin 0/2 of 3", "batch 0.0", "batch 0.1", "batch 0.2",
                                          "begin 1/2 of 3", "batch 1.0", "batch 1.1", "batch 1.2"};
  REQUIRE(trace.events == expected);
}

TEST_CASE("ProgressBar writes one line per epoch to a log", "[callbacks][progress]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);
  const Matrix<double> X_val = latent::testing::uniform_matrix(6, 5, 4);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  std::ostringstream out;
  latent::ProgressBar progress(out, false);

  SECTION("training loss only") {
    const latent::History history = latent::fit(model, adam, X, options(3, 4), rng, progress);
    const std::string text = out.str();
    INFO(text);
    REQUIRE(count(text, '\n') == 3);
    REQUIRE(count(text, '\r') == 0);  // nothing between the lines: no redraws in a log
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      REQUIRE_THAT(lines[e], StartsWith("epoch " + std::to_string(e + 1) + "/3  loss ") &&
                                 Contains("samples/s") && !Contains("validation"));
    }
    // the loss is printed as %.6g
    char loss[32];
    std::snprintf(loss, sizeof loss, "%.6g", history.epochs[1].train_loss);
    REQUIRE_THAT(lines[1], Contains(std::string("loss ") + loss + " "));
  }
  SECTION("with validation") {
    latent::fit(model, adam, X, options(2, 4), rng, latent::Validation(X_val), progress);
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 2);
    REQUIRE_THAT(lines[0], Contains("  validation "));
  }
}

TEST_CASE("ProgressBar redraws a bar on a terminal", "[callbacks][progress]") {
  auto model = small_autoencoder<double>(1);
  const Matrix<double> X = latent::testing::uniform_matrix(6, 20, 2);  // 5 batches of 4
  latent::Adam<double> adam(0.01);
  latent::Rng rng(3);
  std::ostringstream out;
  latent::ProgressBar progress(out, true);
  latent::fit(model, adam, X, options(2, 4), rng, progress);
  const std::string text = out.str();
  INFO(text);
  REQUIRE(count(text, '\n') == 2);  // still one finished line per epoch
  const std::vector<std::string> lines = lines_of(text);
  REQUIRE(lines.size() == 2);
  for (std::size_t e = 0; e < 2; ++e) {
    const std::string& line = lines[e];
    INFO("line " << e);
    // a redraw per batch (the bar is 30 wide, so 5 batches move it every time), then the
    // clearing of the bar: each redraw and the clearing start with a carriage return
    REQUIRE(count(line, '\r') == 5 + 2);
    REQUIRE_THAT(line, StartsWith("\repoch " + std::to_string(e + 1) + "/2 ["));
    REQUIRE_THAT(line, Contains("[==============================] loss "));  // the full bar
    // what remains visible after the last carriage return is the epoch's summary
    const std::string visible = line.substr(line.rfind('\r') + 1);
    REQUIRE_THAT(visible, StartsWith("epoch " + std::to_string(e + 1) + "/2  loss "));
  }
}
