#ifndef LATENT_METRICS_HPP
#define LATENT_METRICS_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "latent/core/types.hpp"

namespace latent {

/// Counts of a binary decision against the truth, and the rates read from them. A rate whose
/// denominator is zero is 0 (scikit-learn's zero_division=0).
struct ConfusionMatrix {
  Index true_positives = 0;
  Index false_positives = 0;
  Index true_negatives = 0;
  Index false_negatives = 0;

  double precision() const { return ratio(true_positives, true_positives + false_positives); }
  double recall() const { return ratio(true_positives, true_positives + false_negatives); }
  double f1() const { return ratio(2 * true_positives, 2 * true_positives + false_positives + false_negatives); }
  double accuracy() const {
    return ratio(true_positives + true_negatives,
                 true_positives + true_negatives + false_positives + false_negatives);
  }

 private:
  static double ratio(Index a, Index b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }
};

namespace detail {

// Scores (any Eigen vector or 1 x n matrix) and 0/1 truths, checked and copied into doubles.
template <class Derived>
std::vector<double> checked_scores(const Eigen::DenseBase<Derived>& scores, const LabelsRef& truth,
                                   const char* who) {
  if (scores.size() != truth.size())
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(scores.size()) +
                                " scores but " + std::to_string(truth.size()) + " labels");
  if (scores.size() == 0) throw std::invalid_argument(std::string(who) + ": no scores");
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic> evaluated =
      scores.derived().template cast<double>();
  std::vector<double> values(evaluated.data(), evaluated.data() + evaluated.size());
  for (Index i = 0; i < scores.size(); ++i) {
    if (std::isnan(values[static_cast<std::size_t>(i)]))
      throw std::invalid_argument(std::string(who) + ": score " + std::to_string(i) + " is NaN");
    if (truth(i) != 0 && truth(i) != 1)
      throw std::invalid_argument(std::string(who) + ": label " + std::to_string(i) + " is " +
                                  std::to_string(truth(i)) + ", labels must be 0 or 1");
  }
  return values;
}

// Indices sorted by decreasing score.
inline std::vector<std::size_t> by_decreasing_score(const std::vector<double>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace detail

/// The decisions `score > threshold` (1 = positive, e.g. anomalous) against `truth` (0 or 1).
template <class Derived>
ConfusionMatrix confusion_matrix(const Eigen::DenseBase<Derived>& scores, const LabelsRef& truth,
                                 double threshold) {
  const std::vector<double> values = detail::checked_scores(scores, truth, "latent::confusion_matrix");
  ConfusionMatrix counts;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const bool flagged = values[i] > threshold, positive = truth(static_cast<Index>(i)) == 1;
    ++(flagged ? (positive ? counts.true_positives : counts.false_positives)
               : (positive ? counts.false_negatives : counts.true_negatives));
  }
  return counts;
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, a tie counting one half (Mann-Whitney U with mid-ranks), so ties are exact.
/// Needs at least one positive and one negative. O(n log n).
template <class Derived>
double roc_auc(const Eigen::DenseBase<Derived>& scores, const LabelsRef& truth) {
  const std::vector<double> values = detail::checked_scores(scores, truth, "latent::roc_auc");
  const std::vector<std::size_t> order = detail::by_decreasing_score(values);
  const Index positives = truth.count(), negatives = truth.size() - positives;
  if (positives == 0 || negatives == 0)
    throw std::invalid_argument("latent::roc_auc: needs both positives and negatives, got " +
                                std::to_string(positives) + " positives and " +
                                std::to_string(negatives) + " negatives");
  // Walk groups of equal scores from the top: each positive beats every negative below its
  // group and ties with the negatives inside it.
  double wins = 0.0;
  Index negatives_left = negatives;  // negatives in the current group and below it
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start;
    Index group_positives = 0, group_negatives = 0;
    while (end < order.size() && values[order[end]] == values[order[start]]) {
      (truth(static_cast<Index>(order[end])) == 1 ? group_positives : group_negatives) += 1;
      ++end;
    }
    negatives_left -= group_negatives;
    wins += static_cast<double>(group_positives) *
            (static_cast<double>(negatives_left) + 0.5 * static_cast<double>(group_negatives));
    start = end;
  }
  return wins / (static_cast<double>(positives) * static_cast<double>(negatives));
}

/// Average precision, as scikit-learn's average_precision_score: the sum over distinct score
/// thresholds, from the top, of (recall gained) x (precision there); tied scores enter together.
/// Needs at least one positive.
template <class Derived>
double average_precision(const Eigen::DenseBase<Derived>& scores, const LabelsRef& truth) {
  const std::vector<double> values = detail::checked_scores(scores, truth, "latent::average_precision");
  const std::vector<std::size_t> order = detail::by_decreasing_score(values);
  const Index positives = truth.count();
  if (positives == 0) throw std::invalid_argument("latent::average_precision: no positives");
  double precision_sum = 0.0;
  Index true_positives = 0, flagged = 0;
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start;
    Index gained = 0;
    while (end < order.size() && values[order[end]] == values[order[start]]) {
      gained += truth(static_cast<Index>(order[end])) == 1;
      ++end;
    }
    true_positives += gained;
    flagged += static_cast<Index>(end - start);
    precision_sum += static_cast<double>(gained) *
                     (static_cast<double>(true_positives) / static_cast<double>(flagged));
    start = end;
  }
  return precision_sum / static_cast<double>(positives);
}

}  // namespace latent

#endif  // LATENT_METRICS_HPP
