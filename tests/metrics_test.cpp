#include <latent/metrics.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "support/data.hpp"

// The metrics against values worked out by hand on a case with ties, and ROC AUC against its
// definition (all positive-negative pairs) on random scores with many ties.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using latent::Labels;

// Positives score 0.35, 0.8, 0.4; negatives 0.1, 0.4: one tie across the classes.
Eigen::RowVectorXd tied_scores() { return (Eigen::RowVectorXd(5) << 0.1, 0.4, 0.35, 0.8, 0.4).finished(); }
Labels tied_truth() { return (Labels(5) << 0, 0, 1, 1, 1).finished(); }

}  // namespace

TEST_CASE("roc_auc counts a tie between a positive and a negative as one half", "[metrics]") {
  // Pairs won: 0.35 beats 0.1; 0.8 beats both; 0.4 beats 0.1 and ties 0.4: 4.5 of 6.
  CHECK_THAT(latent::roc_auc(tied_scores(), tied_truth()), WithinAbs(0.75, 1e-15));
  CHECK(latent::roc_auc(tied_scores().cast<float>(), tied_truth()) == 0.75);  // any scalar
  const Eigen::RowVectorXd flat = Eigen::RowVectorXd::Constant(5, 2.0);
  CHECK(latent::roc_auc(flat, tied_truth()) == 0.5);
  CHECK(latent::roc_auc(-tied_scores(), tied_truth()) == 0.25);  // reversed order: 1 - AUC
}

TEST_CASE("roc_auc equals the fraction of positive-negative pairs ranked right", "[metrics]") {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    // Scores rounded to one decimal: many ties.
    const latent::Matrix<double> raw = latent::testing::uniform_matrix<double>(1, 300, seed);
    const Eigen::RowVectorXd scores = (raw.array() * 10).round() / 10;
    const Labels truth = latent::testing::random_labels(300, 2, seed + 100);
    double wins = 0.0, pairs = 0.0;
    for (latent::Index i = 0; i < 300; ++i)
      for (latent::Index j = 0; j < 300; ++j)
        if (truth(i) == 1 && truth(j) == 0) {
          pairs += 1;
          wins += scores(i) > scores(j) ? 1.0 : scores(i) == scores(j) ? 0.5 : 0.0;
        }
    INFO("seed " << seed);
    CHECK_THAT(latent::roc_auc(scores, truth), WithinAbs(wins / pairs, 1e-12));
  }
}

TEST_CASE("average_precision sums precision over the recall each threshold gains", "[metrics]") {
  // From the top: 0.8 (P) -> precision 1 at recall 1/3; the tie at 0.4 (N, P) -> 2/3 at 2/3;
  // 0.35 (P) -> 3/4 at 1. AP = (1 + 2/3 + 3/4) / 3 = 29/36.
  CHECK_THAT(latent::average_precision(tied_scores(), tied_truth()), WithinAbs(29.0 / 36.0, 1e-15));
  const Labels all = Labels::Ones(5);
  CHECK(latent::average_precision(tied_scores(), all) == 1.0);
}

TEST_CASE("confusion_matrix flags scores above the threshold", "[metrics]") {
  const latent::ConfusionMatrix at_04 = latent::confusion_matrix(tied_scores(), tied_truth(), 0.4);
  CHECK(at_04.true_positives == 1);  // only 0.8 is above 0.4
  CHECK(at_04.false_positives == 0);
  CHECK(at_04.false_negatives == 2);
  CHECK(at_04.true_negatives == 2);
  CHECK(at_04.precision() == 1.0);
  CHECK_THAT(at_04.recall(), WithinAbs(1.0 / 3.0, 1e-15));
  CHECK_THAT(at_04.f1(), WithinAbs(0.5, 1e-15));
  CHECK(at_04.accuracy() == 0.6);

  const latent::ConfusionMatrix none = latent::confusion_matrix(tied_scores(), tied_truth(), 1.0);
  CHECK(none.precision() == 0.0);  // nothing flagged: 0, not a division by zero
  CHECK(none.f1() == 0.0);
}

TEST_CASE("The metrics refuse mismatched, empty, NaN or non-binary input", "[metrics][errors]") {
  const Eigen::RowVectorXd scores = tied_scores();
  CHECK_THROWS_WITH(latent::roc_auc(scores, Labels::Zero(4)), Contains("5 scores but 4 labels"));
  CHECK_THROWS_WITH(latent::roc_auc(Eigen::RowVectorXd(0), Labels(0)), Contains("no scores"));
  CHECK_THROWS_WITH(latent::roc_auc(scores, Labels::Zero(5)),
                    Contains("0 positives and 5 negatives"));
  CHECK_THROWS_WITH(latent::average_precision(scores, Labels::Zero(5)), Contains("no positives"));
  Eigen::RowVectorXd with_nan = scores;
  with_nan(2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(latent::confusion_matrix(with_nan, tied_truth(), 0.5), Contains("score 2 is NaN"));
  Labels three = tied_truth();
  three(1) = 3;
  CHECK_THROWS_WITH(latent::roc_auc(scores, three), Contains("label 1 is 3, labels must be 0 or 1"));
}
