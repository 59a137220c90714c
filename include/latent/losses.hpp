#ifndef LATENT_LOSSES_HPP
#define LATENT_LOSSES_HPP

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "latent/activations.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/parallel.hpp"

namespace latent {

/// Losses are policies. Each reduces by the mean over the batch (n columns) of the per-sample
/// sum over outputs, so a loss does not change with the batch size but grows with the output
/// size (MNIST's MSE is the sum over 784 pixels).
///
/// Contract, used by the models (S is the scalar, Act the output layer's activation, Z and A
/// its pre-activation and output, T the targets of type `target_type<S>`):
/// - `value(A, T)`: the loss of outputs A;
/// - `value<S>(act, Z, A, T)`: the same, from the output layer (may use Z for stability);
/// - `value_and_gradient<S>(act, Z, A, T, dZ)`: returns the loss and writes dL/dZ, the output
///   activation fused into the loss gradient (one pass, and exact where A saturates);
/// - `check_target(T, outputs, n, who)`: throws std::invalid_argument for targets it cannot take.
/// Targets are passed as `Eigen::Ref<const target_type<S>>`, so a range of columns is no copy.

namespace detail {

template <class S>
void check_target_shape(const ConstMatrixRef<S>& T, Index outputs, Index n, std::string_view who) {
  if (T.rows() != outputs || T.cols() != n)
    throw std::invalid_argument(std::string(who) + ": targets are " + std::to_string(T.rows()) + " x " +
                                std::to_string(T.cols()) + " but the model gives " +
                                std::to_string(outputs) + " x " + std::to_string(n));
}

template <class S>
void check_probabilities(const ConstMatrixRef<S>& T, std::string_view who) {
  if (!((T.array() >= S(0)).all() && (T.array() <= S(1)).all()))
    throw std::invalid_argument(std::string(who) + ": binary cross-entropy needs targets in [0, 1]");
}

/// sum_j term(j) over the columns j in [0, n) of an output of `rows` rows: the terms are
/// computed split over the threads of set_threads (a term may also write column j of a
/// gradient), then added on the calling thread in column order, so the sum is the same on any
/// number of threads. The terms live on the stack up to 128 KB: a step allocates nothing.
template <class S, class Term>
S sum_over_columns(Index n, Index rows, const Term& term) {
  namespace internal = Eigen::internal;  // for Eigen's macro
  ei_declare_aligned_stack_constructed_variable(S, terms, n, nullptr);
  parallel_columns(n, rows, [&](Index start, Index count) {
    for (Index j = start; j < start + count; ++j) terms[j] = term(j);
  });
  S total = 0;
  for (Index j = 0; j < n; ++j) total += terms[j];
  return total;
}

/// log(1 + exp(z)) - z t, the cross-entropy of sigmoid(z) against t, never overflowing.
template <class DZ, class DT>
auto logistic_cross_entropy(const Eigen::ArrayBase<DZ>& z, const Eigen::ArrayBase<DT>& t) {
  using T = typename DZ::Scalar;
  return z.cwiseMax(T(0)) - z * t + (-z.abs()).exp().log1p();
}

}  // namespace detail

/// L = (1/n) sum_j ||a_j - t_j||^2, dL/dA = (2/n) (A - T). For real-valued data, after any
/// output activation.
struct MeanSquaredError {
  static constexpr const char* name = "MeanSquaredError";
  using kind = loss_kind;
  template <class S>
  using target_type = Matrix<S>;

  template <class DA, class DT>
  static typename DA::Scalar value(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DT>& T) {
    // Column by column, in the order value_and_gradient sums: the two agree to the last bit.
    // An expression argument (a product, say) is evaluated once, not once per column.
    const typename Eigen::internal::nested_eval<DA, 2>::type a(A.derived());
    const typename Eigen::internal::nested_eval<DT, 2>::type t(T.derived());
    typename DA::Scalar total = 0;
    for (Index j = 0; j < a.cols(); ++j) total += (a.col(j) - t.col(j)).squaredNorm();
    return total / static_cast<typename DA::Scalar>(a.cols());
  }

  template <class S, class Act>
  static S value(const Act&, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& A,
                 const ConstMatrixRef<S>& T) {
    return value(A, T);
  }

  template <class S, class Act>
  static S value_and_gradient(const Act& act, const ConstMatrixRef<S>& Z,
                              const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& T,
                              MatrixMap<S> dZ) {
    // dL/dZ = (2/n) (A - T) .* f'(Z, A), and the value in the same pass, a column at a time
    // while the column is in L1: A and T are read from memory once. The value adds the columns'
    // squared norms in column order, as value() does: the two agree to the last bit.
    const S scale = S(2) / static_cast<S>(A.cols());
    const S total = detail::sum_over_columns<S>(A.cols(), A.rows(), [&](Index j) {
      const auto difference = A.col(j) - T.col(j);
      if constexpr (std::is_same_v<Act, Identity>)
        dZ.col(j).noalias() = scale * difference;
      else
        dZ.col(j).array() = scale * difference.array() * act.derivative(Z.col(j).array(), A.col(j).array());
      return difference.squaredNorm();
    });
    return total / static_cast<S>(A.cols());
  }

  template <class S>
  static void check_target(const ConstMatrixRef<S>& T, Index outputs, Index n,
                           std::string_view who) {
    detail::check_target_shape(T, outputs, n, who);
    if (!T.allFinite()) throw std::invalid_argument(std::string(who) + ": targets hold NaN or infinity");
  }
};

/// Binary cross-entropy on probabilities, for data in [0, 1]:
/// L = -(1/n) sum_ij [t log a + (1 - t) log(1 - a)], each log clamped at -100 as PyTorch does.
/// Behind a Sigmoid output layer it takes the fused logits path: the value is computed from
/// the pre-activation z as max(z, 0) - z t + log(1 + exp(-|z|)), which stays finite where
/// sigmoid(z) rounds to 0 or 1, and dL/dZ = (A - T) / n in one pass.
struct BinaryCrossEntropy {
  static constexpr const char* name = "BinaryCrossEntropy";
  using kind = loss_kind;
  template <class S>
  using target_type = Matrix<S>;

  template <class DA, class DT>
  static typename DA::Scalar value(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DT>& T) {
    using S = typename DA::Scalar;
    const S floor(-100);
    return -(T.array() * A.array().log().cwiseMax(floor) +
             (S(1) - T.array()) * (S(1) - A.array()).log().cwiseMax(floor))
                .sum() /
           static_cast<S>(A.cols());
  }

  template <class S, class Act>
  static S value(const Act&, const ConstMatrixRef<S>& Z, const ConstMatrixRef<S>& A,
                 const ConstMatrixRef<S>& T) {
    if constexpr (std::is_same_v<Act, Sigmoid>)
      return logits_value(Z, T, [](Index) {});
    else
      return value(A, T);
  }

  template <class S, class Act>
  static S value_and_gradient(const Act& act, const ConstMatrixRef<S>& Z,
                              const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& T,
                              MatrixMap<S> dZ) {
    const S inverse_n = S(1) / static_cast<S>(A.cols());
    if constexpr (std::is_same_v<Act, Sigmoid>) {
      // The sigmoid's derivative cancels the denominator: dL/dZ = (A - T) / n, written in the
      // pass that computes the value.
      return logits_value(Z, T,
                          [&](Index j) { dZ.col(j).noalias() = inverse_n * (A.col(j) - T.col(j)); });
    } else {
      // dL/dA = (A - T) / (A (1 - A)), the denominator kept off zero as PyTorch does.
      dZ.array() = inverse_n * (A - T).array() /
                   (A.array() * (S(1) - A.array())).cwiseMax(S(1e-12)) *
                   act.derivative(Z.array(), A.array());
    }
    return value<S>(act, Z, A, T);
  }

  template <class S>
  static void check_target(const ConstMatrixRef<S>& T, Index outputs, Index n,
                           std::string_view who) {
    detail::check_target_shape(T, outputs, n, who);
    detail::check_probabilities(T, who);
  }

 private:
  // The value from the logits Z, a column's terms at a time, after `also(j)` has done its work
  // on column j while the column is in L1.
  template <class S, class Also>
  static S logits_value(const ConstMatrixRef<S>& Z, const ConstMatrixRef<S>& T, const Also& also) {
    return detail::sum_over_columns<S>(Z.cols(), Z.rows(), [&](Index j) {
             also(j);
             return detail::logistic_cross_entropy(Z.col(j).array(), T.col(j).array()).sum();
           }) /
           static_cast<S>(Z.cols());
  }
};

/// Binary cross-entropy on logits: the outputs A are read as logits (put it after an Identity
/// output layer). L = (1/n) sum_ij [max(a, 0) - a t + log(1 + exp(-|a|))],
/// dL/dA = (sigmoid(A) - T) / n. Use sigmoid(A) for probabilities.
struct SigmoidCrossEntropy {
  static constexpr const char* name = "SigmoidCrossEntropy";
  using kind = loss_kind;
  template <class S>
  using target_type = Matrix<S>;

  template <class DA, class DT>
  static typename DA::Scalar value(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DT>& T) {
    using S = typename DA::Scalar;
    return detail::logistic_cross_entropy(A.array(), T.array()).sum() / static_cast<S>(A.cols());
  }

  template <class S, class Act>
  static S value(const Act&, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& A,
                 const ConstMatrixRef<S>& T) {
    return value(A, T);
  }

  template <class S, class Act>
  static S value_and_gradient(const Act& act, const ConstMatrixRef<S>& Z,
                              const ConstMatrixRef<S>& A, const ConstMatrixRef<S>& T,
                              MatrixMap<S> dZ) {
    const S inverse_n = S(1) / static_cast<S>(A.cols());
    if constexpr (std::is_same_v<Act, Identity>)
      dZ.array() = inverse_n * (A.array().logistic() - T.array());
    else
      dZ.array() = inverse_n * (A.array().logistic() - T.array()) *
                   act.derivative(Z.array(), A.array());
    return value(A, T);
  }

  template <class S>
  static void check_target(const ConstMatrixRef<S>& T, Index outputs, Index n,
                           std::string_view who) {
    detail::check_target_shape(T, outputs, n, who);
    detail::check_probabilities(T, who);
  }
};

/// Softmax cross-entropy for class labels, on logits (put it after an Identity output layer):
/// L = (1/n) sum_j [log sum_k exp(a_kj) - a_{l_j, j}], dL/dA = (softmax(A) - onehot(l)) / n.
/// Each column is shifted by its maximum before exp, so no logit overflows.
struct SoftmaxCrossEntropy {
  static constexpr const char* name = "SoftmaxCrossEntropy";
  using kind = loss_kind;
  template <class S>
  using target_type = Labels;

  template <class DA>
  static typename DA::Scalar value(const Eigen::MatrixBase<DA>& A, const LabelsRef& labels) {
    using S = typename DA::Scalar;
    S total(0);
    for (Index j = 0; j < A.cols(); ++j) {
      const S top = A.col(j).maxCoeff();
      total += (top - A(labels(j), j)) + std::log((A.col(j).array() - top).exp().sum());
    }
    return total / static_cast<S>(A.cols());
  }

  template <class S, class Act>
  static S value(const Act&, const ConstMatrixRef<S>&, const ConstMatrixRef<S>& A,
                 const LabelsRef& labels) {
    return value(A, labels);
  }

  template <class S, class Act>
  static S value_and_gradient(const Act& act, const ConstMatrixRef<S>& Z,
                              const ConstMatrixRef<S>& A, const LabelsRef& labels, MatrixMap<S> dZ) {
    const S inverse_n = S(1) / static_cast<S>(A.cols());
    S total(0);
    for (Index j = 0; j < A.cols(); ++j) {
      const S top = A.col(j).maxCoeff();
      dZ.col(j).array() = (A.col(j).array() - top).exp();
      const S sum = dZ.col(j).sum();
      total += (top - A(labels(j), j)) + std::log(sum);  // exact when the label holds the top
      dZ.col(j) *= inverse_n / sum;
      dZ(labels(j), j) -= inverse_n;
    }
    if constexpr (!std::is_same_v<Act, Identity>)
      dZ.array() *= act.derivative(Z.array(), A.array());
    return total * inverse_n;
  }

  template <class S>
  static void check_target(const LabelsRef& labels, Index outputs, Index n, std::string_view who) {
    if (labels.cols() != n)
      throw std::invalid_argument(std::string(who) + ": " + std::to_string(labels.cols()) +
                                  " labels for " + std::to_string(n) + " samples");
    for (Index j = 0; j < n; ++j)
      if (labels(j) < 0 || labels(j) >= outputs)
        throw std::invalid_argument(std::string(who) + ": label " + std::to_string(labels(j)) + " of sample " +
                                    std::to_string(j) + " is outside [0, " +
                                    std::to_string(outputs) + ")");
  }
};

/// Class probabilities from logits, column by column: softmax(a)_k = exp(a_k) / sum exp(a).
template <class Derived>
Matrix<typename Derived::Scalar> softmax(const Eigen::MatrixBase<Derived>& logits) {
  Matrix<typename Derived::Scalar> p = logits;
  for (Index j = 0; j < p.cols(); ++j) {
    p.col(j).array() = (p.col(j).array() - p.col(j).maxCoeff()).exp();
    p.col(j) /= p.col(j).sum();
  }
  return p;
}

}  // namespace latent

#endif  // LATENT_LOSSES_HPP
