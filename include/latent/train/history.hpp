#ifndef LATENT_TRAIN_HISTORY_HPP
#define LATENT_TRAIN_HISTORY_HPP

#include <limits>
#include <vector>

#include "latent/core/types.hpp"

namespace latent {

/// Where fit is, as callbacks see it: epoch in [0, epochs), batch in [0, batches).
struct FitProgress {
  Index epoch = 0;
  Index epochs = 0;
  Index batch = 0;
  Index batches = 0;
};

/// What fit measured in one epoch.
struct EpochRecord {
  Index epoch = 0;          ///< 0-based
  double train_loss = 0.0;  ///< training objective, mean over the epoch's samples
  /// Loss on the validation data after the epoch, NaN without a Validation callback.
  double validation_loss = std::numeric_limits<double>::quiet_NaN();
  double learning_rate = 0.0;       ///< the optimizer's rate during the epoch
  double seconds = 0.0;             ///< wall time of the epoch's training steps
  double samples_per_second = 0.0;  ///< samples / seconds
  /// Batches left out for a non-finite loss or gradient (FitOptions::on_non_finite); the
  /// train_loss is the mean over the others, NaN if none stepped.
  Index skipped_batches = 0;
};

/// What fit returns: one record per epoch run.
struct History {
  std::vector<EpochRecord> epochs;
  bool stopped_early = false;  ///< a callback ended training before the last epoch

  const EpochRecord& last() const { return epochs.back(); }
};

}  // namespace latent

#endif  // LATENT_TRAIN_HISTORY_HPP
