#include <latent/kmeans.hpp>

#include <stdexcept>

#include <catch2/catch.hpp>

#include <latent/metrics.hpp>

#include "support/data.hpp"

// k-means and nearest neighbours on blobs whose clusters are known, and the clustering and
// retrieval metrics against values worked out by hand (or by scikit-learn, as noted).

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using latent::Index;
using latent::Labels;
using latent::Matrix;

// `per` points around each of `k` centres far apart in R^5 (centres 10 apart, spread 0.5),
// with each point's blob as its label.
std::pair<Matrix<double>, Labels> blobs(Index k, Index per, std::uint64_t seed) {
  const Matrix<double> centres = 10 * latent::testing::uniform_matrix<double>(5, k, seed);
  Matrix<double> X(5, k * per);
  Labels truth(k * per);
  const Matrix<double> noise = latent::testing::uniform_matrix<double>(5, k * per, seed + 1, -0.5, 0.5);
  for (Index j = 0; j < k * per; ++j) {
    truth(j) = static_cast<int>(j % k);
    X.col(j) = centres.col(j % k) + noise.col(j);
  }
  return {X, truth};
}

}  // namespace

TEST_CASE("k-means recovers well-separated blobs, and the same seed gives the same clusters",
          "[kmeans]") {
  const auto [X, truth] = blobs(4, 50, 3);
  latent::KMeans<double> kmeans(latent::KMeansOptions{4, 100, 4, 7});
  const Labels clusters = kmeans.fit(X);
  CHECK(latent::adjusted_rand_index(clusters, truth) == 1.0);
  CHECK(latent::purity(clusters, truth) == 1.0);
  CHECK(kmeans.centroids().cols() == 4);
  CHECK(kmeans.predict(X) == clusters);
  // Inertia: every point within 0.5 per coordinate of its centre: at most 200 * 5 * 0.25.
  CHECK(kmeans.inertia() < 250.0);

  latent::KMeans<double> again(latent::KMeansOptions{4, 100, 4, 7});
  CHECK(again.fit(X) == clusters);
  CHECK(again.centroids() == kmeans.centroids());
}

TEST_CASE("k-means refuses bad options and data, and predict before fit", "[kmeans][errors]") {
  CHECK_THROWS_AS(latent::KMeans<double>(0), std::invalid_argument);
  latent::KMeans<double> kmeans(5);
  CHECK_THROWS_WITH(kmeans.predict(Matrix<double>::Zero(2, 3)), Contains("call fit() first"));
  CHECK_THROWS_WITH(kmeans.fit(Matrix<double>::Zero(2, 3)), Contains("3 samples for 5 clusters"));
}

TEST_CASE("nearest_neighbours lists the closest database columns first", "[kmeans][neighbours]") {
  Matrix<double> database(1, 5);
  database << 0.0, 10.0, 3.0, 4.0, -1.0;
  Matrix<double> queries(1, 2);
  queries << 3.2, -0.4;
  const auto found = latent::nearest_neighbours<double>(database, queries, 3);
  REQUIRE(found.rows() == 3);
  CHECK(found.col(0) == (Eigen::Matrix<Index, 3, 1>() << 2, 3, 0).finished());  // 3, 4, then 0
  CHECK(found.col(1) == (Eigen::Matrix<Index, 3, 1>() << 0, 4, 2).finished());
  CHECK_THROWS_AS(latent::nearest_neighbours<double>(database, queries, 6), std::invalid_argument);

  // Retrieval on blobs: every neighbour of a point is from its own blob.
  const auto [X, truth] = blobs(3, 20, 5);
  const auto neighbours = latent::nearest_neighbours<double>(X, X, 10);
  CHECK(latent::precision_at_k(neighbours, truth, truth) == 1.0);
}

TEST_CASE("The clustering metrics match hand-computed values", "[metrics]") {
  // scikit-learn: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714285714285715.
  const Labels a = (Labels(4) << 0, 0, 1, 1).finished();
  const Labels b = (Labels(4) << 0, 0, 1, 2).finished();
  CHECK_THAT(latent::adjusted_rand_index(a, b), WithinAbs(0.5714285714285715, 1e-15));
  CHECK(latent::adjusted_rand_index(a, (Labels(4) << 5, 5, 2, 2).finished()) == 1.0);  // renamed
  // Independent labelings: one cluster against classes split evenly.
  CHECK(latent::adjusted_rand_index(Labels::Zero(4), a) == 0.0);

  // Purity: clusters {0, 0, 1} and {1}: 2 + 1 of 4.
  CHECK(latent::purity((Labels(4) << 0, 0, 0, 1).finished(), (Labels(4) << 0, 0, 1, 1).finished()) == 0.75);

  // precision_at_k: query 0 (label 1) finds labels 1, 0; query 1 (label 0) finds 0, 0.
  Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> neighbours(2, 2);
  neighbours << 0, 1, 1, 2;
  const Labels database = (Labels(3) << 1, 0, 0).finished();
  CHECK(latent::precision_at_k(neighbours, database, (Labels(2) << 1, 0).finished()) == 0.75);
  CHECK_THROWS_AS(latent::adjusted_rand_index(a, Labels::Zero(3)), std::invalid_argument);
}
