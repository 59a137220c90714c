#ifndef LATENT_KMEANS_HPP
#define LATENT_KMEANS_HPP

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "latent/core/random.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"

namespace latent {

struct KMeansOptions {
  Index clusters = 10;        ///< k > 0
  Index max_iterations = 100; ///< Lloyd iterations per start, > 0
  Index starts = 4;           ///< k-means++ starts; the one of least inertia is kept, > 0
  std::uint64_t seed = 0;     ///< seeds the k-means++ draws: same seed, same clusters

  void check() const {
    if (clusters <= 0 || max_iterations <= 0 || starts <= 0)
      throw std::invalid_argument("latent::KMeans: clusters, max_iterations and starts must be positive");
  }
};

/// k-means on the columns of a matrix (codes, embeddings): k-means++ seeding (Arthur and
/// Vassilvitskii, 2007) from a seeded engine, then Lloyd's iterations until no assignment
/// changes; of several starts, the one with the least inertia (sum of squared distances to the
/// assigned centroid). Distances go through one GEMM per iteration: ||x||^2 - 2 c.x + ||c||^2.
template <class S>
class KMeans {
 public:
  explicit KMeans(KMeansOptions options = {}) : options_(options) { options_.check(); }
  explicit KMeans(Index clusters) : KMeans(KMeansOptions{clusters}) {}

  /// In: X, d x n with n >= k. Returns the cluster of each column.
  Labels fit(const ConstMatrixRef<S>& X) {
    detail::check_data(X, X.rows(), "latent::KMeans::fit");
    const Index k = options_.clusters;
    if (X.cols() < k)
      throw std::invalid_argument("latent::KMeans::fit: " + std::to_string(X.cols()) +
                                  " samples for " + std::to_string(k) + " clusters");
    Rng rng(options_.seed);
    Labels best_labels;
    double best_inertia = std::numeric_limits<double>::infinity();
    for (Index start = 0; start < options_.starts; ++start) {
      Matrix<S> centroids = seed_centroids(X, rng);
      Labels labels = Labels::Constant(X.cols(), -1);
      double inertia = 0.0;
      for (Index iteration = 0; iteration < options_.max_iterations; ++iteration) {
        const bool changed = assign(X, centroids, labels, inertia);
        if (!changed) break;
        update(X, labels, centroids, rng);
      }
      if (inertia < best_inertia) {
        best_inertia = inertia;
        best_labels = labels;
        centroids_ = centroids;
      }
    }
    inertia_ = best_inertia;
    return best_labels;
  }

  /// The nearest centroid of each column of X. Needs fit.
  Labels predict(const ConstMatrixRef<S>& X) const {
    if (centroids_.size() == 0) throw std::logic_error("latent::KMeans: call fit() first");
    detail::check_data(X, centroids_.rows(), "latent::KMeans::predict");
    Labels labels = Labels::Constant(X.cols(), -1);
    double inertia = 0.0;
    assign(X, centroids_, labels, inertia);
    return labels;
  }

  const Matrix<S>& centroids() const noexcept { return centroids_; }
  /// Sum over samples of the squared distance to their centroid, after fit.
  double inertia() const noexcept { return inertia_; }

 private:
  // k-means++: the first centroid uniformly, each next one with probability proportional to
  // the squared distance to the nearest centroid chosen so far.
  Matrix<S> seed_centroids(const ConstMatrixRef<S>& X, Rng& rng) const {
    const Index n = X.cols(), k = options_.clusters;
    Matrix<S> centroids(X.rows(), k);
    centroids.col(0) = X.col(static_cast<Index>(detail::uniform_below(rng, static_cast<std::uint64_t>(n))));
    Eigen::ArrayXd nearest = (X.colwise() - centroids.col(0)).colwise().squaredNorm().transpose().template cast<double>();
    for (Index c = 1; c < k; ++c) {
      const double total = nearest.sum();
      Index chosen = static_cast<Index>(detail::uniform_below(rng, static_cast<std::uint64_t>(n)));
      if (total > 0.0) {  // else every point sits on a centroid: any choice is as good
        double target = detail::uniform01(rng) * total;
        for (chosen = 0; chosen + 1 < n && target >= nearest(chosen); ++chosen) target -= nearest(chosen);
      }
      centroids.col(c) = X.col(chosen);
      nearest = nearest.min(
          (X.colwise() - centroids.col(c)).colwise().squaredNorm().transpose().template cast<double>().array());
    }
    return centroids;
  }

  // Assigns each column to its nearest centroid; returns whether any assignment changed.
  static bool assign(const ConstMatrixRef<S>& X, const Matrix<S>& centroids, Labels& labels,
                     double& inertia) {
    bool changed = false;
    inertia = 0.0;
    const Vector<S> centroid_norms = centroids.colwise().squaredNorm().transpose();
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      const auto block = X.middleCols(start, count);
      // ||x - c||^2 = ||x||^2 - 2 c.x + ||c||^2; ||x||^2 is the same for every c of a column.
      Matrix<S> distances = (-2 * centroids.transpose() * block).colwise() + centroid_norms;
      const auto norms = block.colwise().squaredNorm();
      for (Index j = 0; j < count; ++j) {
        Index nearest = 0;
        distances.col(j).minCoeff(&nearest);
        inertia += std::max(0.0, static_cast<double>(distances(nearest, j) + norms(j)));
        if (labels(start + j) != nearest) {
          labels(start + j) = static_cast<int>(nearest);
          changed = true;
        }
      }
    });
    return changed;
  }

  // Each centroid moves to the mean of its columns; an empty cluster takes a random column.
  static void update(const ConstMatrixRef<S>& X, const Labels& labels, Matrix<S>& centroids, Rng& rng) {
    Vector<S> counts = Vector<S>::Zero(centroids.cols());
    centroids.setZero();
    for (Index j = 0; j < X.cols(); ++j) {
      centroids.col(labels(j)) += X.col(j);
      counts(labels(j)) += 1;
    }
    for (Index c = 0; c < centroids.cols(); ++c) {
      if (counts(c) > 0) centroids.col(c) /= counts(c);
      else centroids.col(c) = X.col(static_cast<Index>(detail::uniform_below(rng, static_cast<std::uint64_t>(X.cols()))));
    }
  }

  KMeansOptions options_;
  Matrix<S> centroids_;
  double inertia_ = std::numeric_limits<double>::quiet_NaN();
};

/// The k nearest columns of `database` to each column of `queries` (squared Euclidean
/// distance, nearest first): a k x m matrix of column indices into `database`. Brute force
/// through GEMMs in blocks; exact.
template <class S>
Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> nearest_neighbours(
    const ConstMatrixRef<S>& database, const ConstMatrixRef<S>& queries, Index k) {
  detail::check_data(database, database.rows(), "latent::nearest_neighbours");
  detail::check_data(queries, database.rows(), "latent::nearest_neighbours");
  if (k <= 0 || k > database.cols())
    throw std::invalid_argument("latent::nearest_neighbours: k must be in [1, " +
                                std::to_string(database.cols()) + "], got " + std::to_string(k));
  const Vector<S> norms = database.colwise().squaredNorm().transpose();
  Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> result(k, queries.cols());
  std::vector<Index> order(static_cast<std::size_t>(database.cols()));
  detail::for_each_column_block(queries.cols(), [&](Index start, Index count) {
    // ||q||^2 is the same for every candidate of a query: leave it out of the ranking.
    const Matrix<S> distances =
        (-2 * database.transpose() * queries.middleCols(start, count)).colwise() + norms;
    for (Index j = 0; j < count; ++j) {
      std::iota(order.begin(), order.end(), Index{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](Index a, Index b) {
        return distances(a, j) < distances(b, j) || (distances(a, j) == distances(b, j) && a < b);
      });
      for (Index i = 0; i < k; ++i) result(i, start + j) = order[static_cast<std::size_t>(i)];
    }
  });
  return result;
}

}  // namespace latent

#endif  // LATENT_KMEANS_HPP
