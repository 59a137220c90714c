#ifndef LATENT_TRAIN_FIT_HPP
#define LATENT_TRAIN_FIT_HPP

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/denormals.hpp"
#include "latent/core/error.hpp"
#include "latent/core/random.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/train/callbacks.hpp"
#include "latent/train/history.hpp"

namespace latent {

/// Options of fit.
/// What fit does when a batch's loss or gradient holds NaN or infinity.
enum class NonFinite {
  stop,        ///< throw latent::Error naming the epoch and batch; the parameters are unchanged
  skip_batch,  ///< leave the parameters unchanged, count the batch in the history, go on
};

struct FitOptions {
  Index epochs = 10;      ///< passes over the data, > 0
  Index batch_size = 32;  ///< samples per step, > 0; the last batch of an epoch may be shorter
  bool shuffle = true;    ///< draw a new order of the samples every epoch from the engine
  /// Treat subnormal floats as zero while training (FlushDenormals): several times faster
  /// once small gradients appear; false leaves the caller's floating-point mode as it is.
  bool flush_denormals = true;
  NonFinite on_non_finite = NonFinite::stop;  ///< see NonFinite

  void check() const {
    if (epochs <= 0)
      throw std::invalid_argument("latent::fit: 'epochs' must be positive, got " +
                                  std::to_string(epochs));
    if (batch_size <= 0)
      throw std::invalid_argument("latent::fit: 'batch_size' must be positive, got " +
                                  std::to_string(batch_size));
  }
};

/// Everything a run of fit trains and remembers, for a callback that saves the run and resumes
/// it (io::Checkpoint): with these restored, the epochs that follow are bit-identical to those
/// of a run that never stopped.
template <class Model, class Optimizer, class Engine>
struct TrainingRun {
  using Scalar = typename Model::Scalar;
  Model& model;
  Optimizer& optimizer;
  Engine& rng;
  const ConstMatrixRef<Scalar>& inputs;  ///< the training data
  const FitOptions& options;
  std::vector<Index>& order;  ///< the sample order, reshuffled in place every epoch
  History& history;           ///< the epochs done so far
};

namespace detail {

template <class C, class Run, class = void>
struct has_resume : std::false_type {};
template <class C, class Run>
struct has_resume<C, Run, std::void_t<decltype(std::declval<C&>().resume(std::declval<Run&>()))>>
    : std::true_type {};

template <class C, class Run, class = void>
struct has_save : std::false_type {};
template <class C, class Run>
struct has_save<C, Run, std::void_t<decltype(std::declval<C&>().save(std::declval<const Run&>()))>>
    : std::true_type {};

template <class C, class = void>
struct has_epoch_begin : std::false_type {};
template <class C>
struct has_epoch_begin<C, std::void_t<decltype(std::declval<C&>().on_epoch_begin(
                              std::declval<const FitProgress&>()))>> : std::true_type {};

template <class C, class = void>
struct has_batch_end : std::false_type {};
template <class C>
struct has_batch_end<C, std::void_t<decltype(std::declval<C&>().on_batch_end(
                            std::declval<const FitProgress&>(), 0.0))>> : std::true_type {};

template <class C, class M, class = void>
struct has_validation : std::false_type {};
template <class C, class M>
struct has_validation<C, M, std::void_t<decltype(std::declval<C&>().validation_loss(
                                std::declval<M&>()))>> : std::true_type {};

template <class C, class M, class = void>
struct has_epoch_end_with_model : std::false_type {};
template <class C, class M>
struct has_epoch_end_with_model<C, M, std::void_t<decltype(std::declval<C&>().on_epoch_end(
                                          std::declval<const EpochRecord&>(),
                                          std::declval<M&>()))>> : std::true_type {};

template <class C, class = void>
struct has_epoch_end : std::false_type {};
template <class C>
struct has_epoch_end<C, std::void_t<decltype(std::declval<C&>().on_epoch_end(
                            std::declval<const EpochRecord&>()))>> : std::true_type {};

template <class C, class = void>
struct has_rate : std::false_type {};
template <class C>
struct has_rate<C, std::void_t<decltype(std::declval<const C&>().rate(0.0, Index{0}))>>
    : std::true_type {};

template <class C, class M, class Run>
constexpr bool is_callback_v = has_epoch_begin<C>::value || has_batch_end<C>::value ||
                               has_validation<C, M>::value || has_epoch_end<C>::value ||
                               has_epoch_end_with_model<C, M>::value || has_rate<C>::value ||
                               has_resume<C, Run>::value || has_save<C, Run>::value;

/// Calls on_epoch_end with or without the model; true stops.
template <class C, class M>
bool epoch_end(C& callback, const EpochRecord& record, M& model) {
  if constexpr (has_epoch_end_with_model<C, M>::value) {
    if constexpr (std::is_void_v<decltype(callback.on_epoch_end(record, model))>) {
      callback.on_epoch_end(record, model);
      return false;
    } else {
      return static_cast<bool>(callback.on_epoch_end(record, model));
    }
  } else if constexpr (has_epoch_end<C>::value) {
    if constexpr (std::is_void_v<decltype(callback.on_epoch_end(record))>) {
      callback.on_epoch_end(record);
      return false;
    } else {
      return static_cast<bool>(callback.on_epoch_end(record));
    }
  } else {
    return false;
  }
}

/// The loop shared by both forms of fit. `train_batch(order, start, count)` gathers the
/// samples order[start, start + count) and runs one model step, returning its objective.
template <class Model, class Optimizer, class Engine, class TrainBatch, class... Callbacks>
History fit_loop(Model& model, Optimizer& optimizer,
                 const ConstMatrixRef<typename Model::Scalar>& inputs, const FitOptions& options,
                 Engine& rng, TrainBatch&& train_batch, Callbacks&... callbacks) {
  using Run = TrainingRun<Model, Optimizer, Engine>;
  static_assert((is_callback_v<Callbacks, Model, Run> && ...),
                "latent::fit: every argument after the engine must be a callback with at least "
                "one hook (on_epoch_begin, on_batch_end, validation_loss, on_epoch_end, rate, "
                "resume, save); see train/callbacks.hpp");
  static_assert((has_resume<Callbacks, Run>::value + ... + 0) <= 1,
                "latent::fit: at most one callback may resume the run");
  using Clock = std::chrono::steady_clock;
  const Index samples = inputs.cols();
  const Index batches = (samples + options.batch_size - 1) / options.batch_size;
  [[maybe_unused]] const double base_rate = optimizer.learning_rate();
  std::vector<Index> order(static_cast<std::size_t>(samples));
  std::iota(order.begin(), order.end(), Index{0});

  History history;
  [[maybe_unused]] Run run{model, optimizer, rng, inputs, options, order, history};
  Index first_epoch = 0;
  (
      [&] {
        if constexpr (has_resume<Callbacks, Run>::value) first_epoch = callbacks.resume(run);
      }(),
      ...);
  // A run a callback ended early stays ended.
  if (history.stopped_early) first_epoch = options.epochs;

  std::optional<FlushDenormals> flush;
  if (options.flush_denormals) flush.emplace();

  for (Index epoch = first_epoch; epoch < options.epochs; ++epoch) {
    [[maybe_unused]] FitProgress progress{epoch, options.epochs, 0, batches};
    (
        [&] {
          if constexpr (has_rate<Callbacks>::value)
            optimizer.set_learning_rate(callbacks.rate(base_rate, epoch));
        }(),
        ...);
    (
        [&] {
          if constexpr (has_epoch_begin<Callbacks>::value) callbacks.on_epoch_begin(progress);
        }(),
        ...);
    if (options.shuffle) detail::shuffle(order, rng);

    EpochRecord record;
    record.epoch = epoch;
    record.learning_rate = optimizer.learning_rate();
    double total = 0.0;
    Index stepped = 0;  // samples of the batches that stepped
    const auto start_time = Clock::now();
    for (Index batch = 0; batch < batches; ++batch) {
      const Index start = batch * options.batch_size;
      const Index count = std::min(options.batch_size, samples - start);
      const double loss = static_cast<double>(train_batch(order, start, count));
      // Checked before the step, so that a bad batch never reaches the parameters. The
      // gradient pass costs about 1% of a step (detail::all_finite); a finite loss can hide an
      // overflowed gradient.
      const bool finite_loss = std::isfinite(loss);
      if (!finite_loss || !detail::all_finite(model.gradients())) {
        if (options.on_non_finite == NonFinite::skip_batch) {
          ++record.skipped_batches;
          continue;
        }
        std::ostringstream message;
        message << "latent::fit: ";
        if (finite_loss) message << "the gradient holds NaN or infinity";
        else message << "the loss became " << loss;
        message << " at epoch " << epoch << ", batch " << batch << " of " << batches
                << "; the parameters are those before that batch";
        throw Error(message.str());
      }
      optimizer.step(model.parameters(), model.gradients());
      total += loss * static_cast<double>(count);
      stepped += count;
      progress.batch = batch;
      (
          [&] {
            if constexpr (has_batch_end<Callbacks>::value) callbacks.on_batch_end(progress, loss);
          }(),
          ...);
    }
    record.seconds = std::chrono::duration<double>(Clock::now() - start_time).count();
    record.train_loss = stepped > 0 ? total / static_cast<double>(stepped)
                                    : std::numeric_limits<double>::quiet_NaN();
    record.samples_per_second =
        record.seconds > 0.0 ? static_cast<double>(samples) / record.seconds : 0.0;
    (
        [&] {
          if constexpr (has_validation<Callbacks, Model>::value)
            record.validation_loss = callbacks.validation_loss(model);
        }(),
        ...);
    history.epochs.push_back(record);
    // Every callback sees the epoch, in the order given, even after one has asked to stop.
    bool stop = false;
    ((stop = epoch_end(callbacks, record, model) || stop), ...);
    if (stop) history.stopped_early = epoch + 1 < options.epochs;
    // Last, so that what is saved includes every callback's decision on the epoch.
    (
        [&] {
          if constexpr (has_save<Callbacks, Run>::value) callbacks.save(std::as_const(run));
        }(),
        ...);
    if (stop) break;
  }
  // A schedule changes the optimizer's rate for this run only.
  if constexpr ((has_rate<Callbacks>::value || ...)) optimizer.set_learning_rate(base_rate);
  return history;
}

}  // namespace detail

/// Trains an autoencoder (or any model with `train_batch(X, rng)`) on X (input_size x n, one
/// sample per column): each epoch shuffles the samples with `rng` (unless options.shuffle is
/// false), gathers them into batches of options.batch_size, and for each batch computes the
/// objective and its gradient and steps the optimizer. Returns the history of the epochs.
///
/// The data is checked once before the first step (rows, at least one sample, no NaN or
/// infinity): std::invalid_argument otherwise. A batch whose loss or gradient holds NaN or
/// infinity never steps: by default it stops training with latent::Error naming the epoch and
/// batch, the parameters being those of the last good step; with options.on_non_finite =
/// NonFinite::skip_batch it is skipped and counted in EpochRecord::skipped_batches. (A finite
/// gradient whose step overflows is caught at the next batch, after the fact.) The same seed
/// gives bit-identical parameters.
///
/// Callbacks follow the engine: ProgressBar, Validation, EarlyStopping, a schedule, your own
/// (train/callbacks.hpp).
template <class Model, class Optimizer, class Engine, class... Callbacks>
History fit(Model& model, Optimizer& optimizer,
            const ConstMatrixRef<typename Model::Scalar>& X, const FitOptions& options,
            Engine& rng, Callbacks&&... callbacks) {
  using S = typename Model::Scalar;
  static_assert(std::is_same_v<typename Optimizer::Scalar, S>,
                "latent::fit: the optimizer's scalar type must be the model's");
  options.check();
  detail::check_data(X, model.input_size(), "latent::fit");
  Matrix<S> batch(X.rows(), std::min(options.batch_size, X.cols()));
  return detail::fit_loop(
      model, optimizer, X, options, rng,
      [&](const std::vector<Index>& order, Index start, Index count) {
        if (!options.shuffle) return model.train_batch(X.middleCols(start, count), rng);
        for (Index j = 0; j < count; ++j)
          batch.col(j) = X.col(order[static_cast<std::size_t>(start + j)]);
        return model.train_batch(batch.leftCols(count), rng);
      },
      callbacks...);
}

/// Trains a supervised model (FeedForward, or any model with `train_batch(X, T, rng)`) on
/// inputs X (input_size x n) and targets T (a matrix with n columns, or Labels), as the
/// unsupervised form does. The targets are checked by the model's loss before the first step.
template <class Model, class Optimizer, class Targets, class Engine, class... Callbacks>
History fit(Model& model, Optimizer& optimizer,
            const ConstMatrixRef<typename Model::Scalar>& X, const Targets& T,
            const FitOptions& options, Engine& rng, Callbacks&&... callbacks) {
  using S = typename Model::Scalar;
  using Target = typename Model::target_type;
  static_assert(std::is_same_v<typename Optimizer::Scalar, S>,
                "latent::fit: the optimizer's scalar type must be the model's");
  options.check();
  detail::check_data(X, model.input_size(), "latent::fit");
  const typename Model::target_ref targets(T);
  model.check_targets(targets, X.cols(), "latent::fit");
  Matrix<S> batch(X.rows(), std::min(options.batch_size, X.cols()));
  Target batch_targets(targets.rows(), batch.cols());
  return detail::fit_loop(
      model, optimizer, X, options, rng,
      [&](const std::vector<Index>& order, Index start, Index count) {
        if (!options.shuffle)
          return model.train_batch(X.middleCols(start, count), targets.middleCols(start, count), rng);
        for (Index j = 0; j < count; ++j) {
          const Index source = order[static_cast<std::size_t>(start + j)];
          batch.col(j) = X.col(source);
          batch_targets.col(j) = targets.col(source);
        }
        return model.train_batch(batch.leftCols(count), batch_targets.leftCols(count), rng);
      },
      callbacks...);
}

}  // namespace latent

#endif  // LATENT_TRAIN_FIT_HPP
