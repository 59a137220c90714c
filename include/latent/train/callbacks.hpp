#ifndef LATENT_TRAIN_CALLBACKS_HPP
#define LATENT_TRAIN_CALLBACKS_HPP

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

#include "latent/core/types.hpp"
#include "latent/train/history.hpp"

namespace latent {

/// Callbacks are passed to fit after the engine, and have only the hooks they need; fit finds
/// them by their signatures:
/// - `void on_epoch_begin(const FitProgress&)`
/// - `void on_batch_end(const FitProgress&, double batch_loss)`
/// - `double validation_loss(Model&)`: fit stores it in the epoch's record before
///   on_epoch_end runs, whatever the order of the callbacks;
/// - `bool on_epoch_end(const EpochRecord&)` or `bool on_epoch_end(const EpochRecord&, Model&)`:
///   true stops training (a void return never stops);
/// - `double rate(double base, Index epoch)`: a learning-rate schedule (optim/schedules.hpp);
/// - `Index resume(TrainingRun&)`: called once before the first epoch, may restore the whole
///   run (train/fit.hpp) and returns the number of epochs already done, where fit goes on;
/// - `void save(const TrainingRun&)`: called after every epoch, after every on_epoch_end.
/// io::Checkpoint (io/checkpoint.hpp) has the last two.

/// Validation data: its loss is computed after every epoch and recorded in the history, and
/// EarlyStopping watches it. Holds views of the data, which must outlive fit.
///   fit(model, adam, train, options, rng, Validation(test));             // autoencoder
///   fit(classifier, adam, X, y, options, rng, Validation(X_test, y_test));  // supervised
template <class... Data>
class Validation {
 public:
  explicit Validation(const Data&... data) : data_(data...) {}

  template <class Model>
  double validation_loss(Model& model) const {
    return static_cast<double>(std::apply([&](const auto&... d) { return model.loss(d...); }, data_));
  }

 private:
  std::tuple<const Data&...> data_;
};

template <class... Data>
Validation(const Data&...) -> Validation<Data...>;

/// Stops training when the watched loss (the validation loss if there is one, the training
/// loss otherwise) has not improved by more than min_delta for `patience` epochs in a row.
/// With restore_best (the default) it puts back the parameters of the best epoch when it stops.
class EarlyStopping {
 public:
  explicit EarlyStopping(Index patience = 5, double min_delta = 0.0, bool restore_best = true)
      : patience_(patience), min_delta_(min_delta), restore_best_(restore_best) {
    if (patience <= 0)
      throw std::invalid_argument("latent::EarlyStopping: 'patience' must be positive, got " +
                                  std::to_string(patience));
    if (!(min_delta >= 0.0))
      throw std::invalid_argument("latent::EarlyStopping: 'min_delta' must be non-negative, got " +
                                  std::to_string(min_delta));
  }

  template <class Model>
  bool on_epoch_end(const EpochRecord& record, Model& model) {
    const double watched =
        std::isnan(record.validation_loss) ? record.train_loss : record.validation_loss;
    if (watched < best_ - min_delta_) {
      best_ = watched;
      best_epoch_ = record.epoch;
      waited_ = 0;
      if (restore_best_) best_parameters_ = model.parameters().template cast<double>();
      return false;
    }
    if (++waited_ < patience_) return false;
    if (restore_best_ && best_parameters_.size() == model.parameters().size())
      model.parameters() = best_parameters_.cast<typename Model::Scalar>();
    return true;
  }

  double best_loss() const noexcept { return best_; }
  Index best_epoch() const noexcept { return best_epoch_; }

 private:
  Index patience_;
  double min_delta_;
  bool restore_best_;
  double best_ = std::numeric_limits<double>::infinity();
  Index best_epoch_ = -1;
  Index waited_ = 0;
  Eigen::VectorXd best_parameters_;  // float parameters round-trip through double exactly
};

/// Reports progress on a stream (stderr by default). On a terminal it redraws a bar during each
/// epoch; elsewhere (a log file, CI) it writes one line per epoch and nothing in between.
class ProgressBar {
 public:
  ProgressBar() : ProgressBar(std::cerr, stderr_is_terminal()) {}
  ProgressBar(std::ostream& out, bool interactive) : out_(&out), interactive_(interactive) {}

  void on_epoch_begin(const FitProgress& progress) { epochs_ = progress.epochs; }

  void on_batch_end(const FitProgress& progress, double loss) {
    if (!interactive_) return;
    const Index width = 30;
    const Index done = (progress.batch + 1) * width / progress.batches;
    if (done == drawn_ && progress.batch + 1 != progress.batches) return;
    drawn_ = done;
    *out_ << '\r' << "epoch " << progress.epoch + 1 << '/' << progress.epochs << " ["
          << std::string(static_cast<std::size_t>(done), '=')
          << std::string(static_cast<std::size_t>(width - done), ' ') << "] loss " << loss
          << std::flush;
  }

  bool on_epoch_end(const EpochRecord& record) {
    if (interactive_) *out_ << '\r' << std::string(72, ' ') << '\r';
    drawn_ = -1;
    char line[160];
    int length = std::snprintf(line, sizeof line, "epoch %lld/%lld  loss %.6g",
                               static_cast<long long>(record.epoch + 1),
                               static_cast<long long>(epochs_), record.train_loss);
    if (!std::isnan(record.validation_loss))
      length += std::snprintf(line + length, sizeof line - static_cast<std::size_t>(length),
                              "  validation %.6g", record.validation_loss);
    std::snprintf(line + length, sizeof line - static_cast<std::size_t>(length),
                  "  %.3g s  %.0f samples/s", record.seconds, record.samples_per_second);
    *out_ << line << '\n' << std::flush;
    return false;
  }

 private:
  static bool stderr_is_terminal() {
#if defined(_WIN32)
    return _isatty(_fileno(stderr)) != 0;
#else
    return isatty(fileno(stderr)) != 0;
#endif
  }

  std::ostream* out_;
  bool interactive_;
  Index epochs_ = 0;
  Index drawn_ = -1;
};

}  // namespace latent

#endif  // LATENT_TRAIN_CALLBACKS_HPP
