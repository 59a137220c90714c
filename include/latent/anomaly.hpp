#ifndef LATENT_ANOMALY_HPP
#define LATENT_ANOMALY_HPP

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/losses.hpp"

namespace latent {

// ---- Scores: one per column of X, higher = more anomalous --------------------------------------
// Each keeps a reference to its model (and engine), which must outlive it. Made from a const
// model (std::as_const(model)), reconstruction_error and reconstruction_cross_entropy run its
// const reconstruct, so one score may run in several threads at once; the VAE scores draw from
// the engine and run through the model's workspace: one thread at a time.

/// ||x - reconstruct(x)||^2 for each sample x, for any model with reconstruct(X): an
/// Autoencoder, a VariationalAutoencoder (from the mean code) or Pca (the linear baseline).
template <class Model>
auto reconstruction_error(Model& model) {
  return [&model](const auto& X) {
    using S = typename std::decay_t<decltype(X)>::Scalar;
    const ConstMatrixRef<S> data(X);
    Eigen::RowVectorXd errors(data.cols());
    detail::for_each_column_block(data.cols(), [&](Index start, Index count) {
      const auto block = data.middleCols(start, count);
      errors.segment(start, count) =
          (model.reconstruct(block) - block).colwise().squaredNorm().template cast<double>();
    });
    return errors;
  };
}

/// -sum_i [x_i log r_i + (1 - x_i) log(1 - r_i)] for each sample x and its reconstruction r,
/// each log clamped at -100 as BinaryCrossEntropy does: the error a model trained with
/// cross-entropy minimised, for data in [0, 1] and reconstructions that are probabilities (a
/// Sigmoid output, or a VAE's Bernoulli mean). Throws std::invalid_argument for data outside
/// [0, 1].
template <class Model>
auto reconstruction_cross_entropy(Model& model) {
  return [&model](const auto& X) {
    using S = typename std::decay_t<decltype(X)>::Scalar;
    const ConstMatrixRef<S> data(X);
    detail::check_probabilities(data, "latent::reconstruction_cross_entropy");
    Eigen::RowVectorXd errors(data.cols());
    detail::for_each_column_block(data.cols(), [&](Index start, Index count) {
      const auto x = data.middleCols(start, count).array();
      const Matrix<S> r = model.reconstruct(data.middleCols(start, count));
      const S floor(-100);
      errors.segment(start, count) =
          -(x * r.array().log().cwiseMax(floor) + (S(1) - x) * (S(1) - r.array()).log().cwiseMax(floor))
               .colwise()
               .sum()
               .template cast<double>();
    });
    return errors;
  };
}

/// -ELBO(x) with `draws` samples of the code per x: what a VAE finds improbable, as a bound.
template <class Vae, class Engine>
auto negative_elbo(Vae& vae, Engine& rng, Index draws = 1) {
  return [&vae, &rng, draws](const auto& X) -> Eigen::RowVectorXd {
    return -vae.elbo(X, rng, draws).template cast<double>();
  };
}

/// -log p(x), the importance-weighted estimate with k samples: tighter than -ELBO as k grows.
template <class Vae, class Engine>
auto negative_log_likelihood(Vae& vae, Index k, Engine& rng) {
  return [&vae, &rng, k](const auto& X) -> Eigen::RowVectorXd {
    return -vae.log_likelihood(X, k, rng).template cast<double>();
  };
}

/// -E_q[log p(x|z)] with `draws` samples: the reconstruction probability of An and Cho (2015).
template <class Vae, class Engine>
auto negative_reconstruction_probability(Vae& vae, Index draws, Engine& rng) {
  return [&vae, &rng, draws](const auto& X) -> Eigen::RowVectorXd {
    return -vae.reconstruction_probability(X, draws, rng).template cast<double>();
  };
}

// ---- The detector ------------------------------------------------------------------------------

/// One-class anomaly detection: a score (above) and a threshold, the sample being flagged
/// anomalous when its score is above the threshold. The threshold comes from normal data only
/// (fit: a quantile of their scores) or from labelled data (fit_best_f1).
///
///   AnomalyDetector detector(reconstruction_error(model));   // model trained on normal data
///   detector.fit(normal, 0.99);                              // flags ~1% of normal data
///   Labels flagged = detector.predict(X);                    // 1 = anomaly
template <class Score>
class AnomalyDetector {
 public:
  explicit AnomalyDetector(Score score) : score_(std::move(score)) {}

  /// The raw scores of X (one sample per column): 1 x n.
  template <class Derived>
  Eigen::RowVectorXd score(const Eigen::MatrixBase<Derived>& X) {
    if (X.cols() == 0) throw std::invalid_argument("latent::AnomalyDetector: no samples");
    Eigen::RowVectorXd scores = score_(X.derived());
    if (scores.hasNaN()) throw std::invalid_argument("latent::AnomalyDetector: a score is NaN");
    return scores;
  }

  /// Sets the threshold at the `quantile` (in (0, 1]) of the scores of `normal` (linear
  /// interpolation between order statistics, NumPy's default): about (1 - quantile) of data
  /// like `normal` will be flagged.
  template <class Derived>
  void fit(const Eigen::MatrixBase<Derived>& normal, double quantile = 0.99) {
    if (!(quantile > 0.0 && quantile <= 1.0))
      throw std::invalid_argument("latent::AnomalyDetector::fit: 'quantile' must be in (0, 1], got " +
                                  std::to_string(quantile));
    Eigen::RowVectorXd scores = score(normal);
    std::sort(scores.begin(), scores.end());
    const double position = quantile * static_cast<double>(scores.size() - 1);
    const Index below = static_cast<Index>(std::floor(position));
    const Index above = std::min<Index>(below + 1, scores.size() - 1);
    const double weight = position - static_cast<double>(below);
    threshold_ = scores(below) + weight * (scores(above) - scores(below));
  }

  /// Sets the threshold that maximises F1 on labelled data (`truth`: 1 = anomaly, 0 = normal),
  /// halfway between the lowest flagged score and the highest one left unflagged.
  template <class Derived>
  void fit_best_f1(const Eigen::MatrixBase<Derived>& X, const LabelsRef& truth) {
    const Eigen::RowVectorXd scores = score(X);
    if (truth.size() != scores.size())
      throw std::invalid_argument("latent::AnomalyDetector::fit_best_f1: " +
                                  std::to_string(scores.size()) + " samples but " +
                                  std::to_string(truth.size()) + " labels");
    if ((truth.array() != 0 && truth.array() != 1).any())
      throw std::invalid_argument("latent::AnomalyDetector::fit_best_f1: labels must be 0 or 1");
    const Index anomalies = truth.count();
    if (anomalies == 0)
      throw std::invalid_argument("latent::AnomalyDetector::fit_best_f1: no anomalies to find");
    std::vector<Index> order(static_cast<std::size_t>(scores.size()));
    std::iota(order.begin(), order.end(), Index{0});
    std::sort(order.begin(), order.end(), [&](Index a, Index b) { return scores(a) > scores(b); });
    // Flag the top groups of equal scores one group at a time; F1 = 2 TP / (2 TP + FP + FN).
    double best_f1 = -1.0;
    Index true_positives = 0, flagged = 0;
    for (std::size_t start = 0; start < order.size();) {
      std::size_t end = start;
      while (end < order.size() && scores(order[end]) == scores(order[start])) {
        true_positives += truth(order[end]);
        ++end;
      }
      flagged = static_cast<Index>(end);
      const double f1 = 2.0 * static_cast<double>(true_positives) /
                        static_cast<double>(flagged + anomalies);
      if (f1 > best_f1) {
        best_f1 = f1;
        threshold_ = end < order.size() ? 0.5 * (scores(order[end - 1]) + scores(order[end]))
                                        : -std::numeric_limits<double>::infinity();
      }
      start = end;
    }
  }

  /// 1 where a sample's score is above the threshold, 0 elsewhere. Needs fit or fit_best_f1.
  template <class Derived>
  Labels predict(const Eigen::MatrixBase<Derived>& X) {
    if (std::isnan(threshold_))
      throw std::logic_error("latent::AnomalyDetector: call fit() or fit_best_f1() first");
    return (score(X).array() > threshold_).template cast<int>();
  }

  /// The threshold (NaN before fit).
  double threshold() const noexcept { return threshold_; }
  void set_threshold(double threshold) {
    if (std::isnan(threshold)) throw std::invalid_argument("latent::AnomalyDetector: threshold is NaN");
    threshold_ = threshold;
  }

 private:
  Score score_;
  double threshold_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace latent

#endif  // LATENT_ANOMALY_HPP
