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

namespace detail {

// The contingency table of two labelings of the same samples (labels >= 0).
inline Eigen::MatrixXd contingency(const LabelsRef& a, const LabelsRef& b, const char* who) {
  if (a.size() != b.size())
    throw std::invalid_argument(std::string(who) + ": " + std::to_string(a.size()) + " and " +
                                std::to_string(b.size()) + " labels");
  if (a.size() == 0) throw std::invalid_argument(std::string(who) + ": no labels");
  if (a.minCoeff() < 0 || b.minCoeff() < 0)
    throw std::invalid_argument(std::string(who) + ": labels must be non-negative");
  Eigen::MatrixXd table = Eigen::MatrixXd::Zero(a.maxCoeff() + 1, b.maxCoeff() + 1);
  for (Index i = 0; i < a.size(); ++i) table(a(i), b(i)) += 1;
  return table;
}

}  // namespace detail

/// Purity of a clustering against classes: each cluster counts its most frequent class; the
/// fraction of samples so counted. 1 is perfect; it favours many small clusters.
inline double purity(const LabelsRef& clusters, const LabelsRef& classes) {
  const Eigen::MatrixXd table = detail::contingency(clusters, classes, "latent::purity");
  return table.rowwise().maxCoeff().sum() / static_cast<double>(clusters.size());
}

/// Adjusted Rand index (Hubert and Arabie, 1985): agreement of two labelings over all pairs of
/// samples, corrected for chance: 1 for the same partition (whatever the label names), about
/// 0 for independent ones. As scikit-learn's adjusted_rand_score.
inline double adjusted_rand_index(const LabelsRef& a, const LabelsRef& b) {
  const Eigen::MatrixXd table = detail::contingency(a, b, "latent::adjusted_rand_index");
  const auto pairs = [](const auto& counts) { return (counts * (counts - 1.0) / 2.0).sum(); };
  const double both = pairs(table.array());
  const double in_a = pairs(table.rowwise().sum().array());
  const double in_b = pairs(table.colwise().sum().array());
  const double n = static_cast<double>(a.size());
  const double expected = in_a * in_b / (n * (n - 1.0) / 2.0);
  const double maximum = 0.5 * (in_a + in_b);
  if (maximum == expected) return 1.0;  // both trivial (one cluster, or all singletons)
  return (both - expected) / (maximum - expected);
}

/// Retrieval precision: for each query, the fraction of its neighbours (a column of
/// `neighbours`, indices into the database, as nearest_neighbours returns) that share its
/// label; the mean over queries.
inline double precision_at_k(const Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>& neighbours,
                             const LabelsRef& database_labels, const LabelsRef& query_labels) {
  if (neighbours.cols() != query_labels.size() || neighbours.size() == 0)
    throw std::invalid_argument("latent::precision_at_k: " + std::to_string(neighbours.cols()) +
                                " neighbour lists for " + std::to_string(query_labels.size()) +
                                " queries");
  Index hits = 0;
  for (Index q = 0; q < neighbours.cols(); ++q)
    for (Index i = 0; i < neighbours.rows(); ++i) {
      const Index found = neighbours(i, q);
      if (found < 0 || found >= database_labels.size())
        throw std::invalid_argument("latent::precision_at_k: neighbour index " +
                                    std::to_string(found) + " is outside the database");
      hits += database_labels(found) == query_labels(q);
    }
  return static_cast<double>(hits) / static_cast<double>(neighbours.size());
}

}  // namespace latent

#endif  // LATENT_METRICS_HPP
