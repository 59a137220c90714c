#ifndef LATENT_MODELS_SUPERVISED_HPP
#define LATENT_MODELS_SUPERVISED_HPP

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/parameters.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/detail/describe.hpp"
#include "latent/detail/inference.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/losses.hpp"

namespace latent {

/// The label of a sample whose class is not known: it counts in the reconstruction term only.
inline constexpr int unlabelled = -1;

/// How the head of a SupervisedAutoencoder reads its labels: a policy of kind
/// classifier_loss_kind. Contract (S the scalar; logits and labels of the m labelled samples
/// of a batch, m >= 1; the head ends in an Identity layer, so its outputs are logits):
/// - `name`; `check_head(outputs, who)` throws std::invalid_argument for a head it cannot
///   read; `valid(label, outputs)` says whether a label is one of its classes;
/// - `value<S>(logits, labels, scratch)` returns the mean loss over the m samples;
/// - `value_and_gradient<S>(logits, labels, dlogits, scratch)` also writes dL/dlogits.
/// `scratch` is a workspace the policy may use, already sized for one row of the batch's
/// columns, so that a steady-state step allocates nothing.
///
/// Classes: one logit per class, softmax cross-entropy, labels in [0, outputs), outputs >= 2.
struct Classes {
  static constexpr const char* name = "Classes";
  using kind = classifier_loss_kind;

  static void check_head(Index outputs, const std::string& who) {
    if (outputs < 2)
      throw std::invalid_argument(who + ": a Classes head needs one logit per class, at least 2, "
                                  "but gives " + std::to_string(outputs) + " (BinaryLabel takes one)");
  }
  static bool valid(int label, Index outputs) { return label >= 0 && label < outputs; }
  template <class S>
  static S value(const ConstMatrixRef<S>& logits, const LabelsRef& labels, detail::Workspace<S>&) {
    return SoftmaxCrossEntropy::value(logits, labels);
  }
  template <class S>
  static S value_and_gradient(const ConstMatrixRef<S>& logits, const LabelsRef& labels,
                              MatrixMap<S> dlogits, detail::Workspace<S>&) {
    return SoftmaxCrossEntropy::value_and_gradient<S>(Identity{}, logits, logits, labels, dlogits);
  }
};

/// BinaryLabel: one logit, sigmoid cross-entropy, labels 0 or 1.
struct BinaryLabel {
  static constexpr const char* name = "BinaryLabel";
  using kind = classifier_loss_kind;

  static void check_head(Index outputs, const std::string& who) {
    if (outputs != 1)
      throw std::invalid_argument(who + ": a BinaryLabel head gives one logit, not " +
                                  std::to_string(outputs));
  }
  static bool valid(int label, Index) { return label == 0 || label == 1; }
  template <class S>
  static S value(const ConstMatrixRef<S>& logits, const LabelsRef& labels,
                 detail::Workspace<S>& scratch) {
    return SigmoidCrossEntropy::value(logits, targets(labels, scratch));
  }
  template <class S>
  static S value_and_gradient(const ConstMatrixRef<S>& logits, const LabelsRef& labels,
                              MatrixMap<S> dlogits, detail::Workspace<S>& scratch) {
    return SigmoidCrossEntropy::value_and_gradient<S>(Identity{}, logits, logits,
                                                      targets(labels, scratch), dlogits);
  }

 private:
  template <class S>
  static MatrixMap<S> targets(const LabelsRef& labels, detail::Workspace<S>& scratch) {
    MatrixMap<S> t = scratch.view(1, labels.cols());
    t = labels.template cast<S>();
    return t;
  }
};

/// Options of SupervisedAutoencoder.
struct SupervisedOptions {
  /// Weight of the reconstruction term, in [0, 1]; the classification term has 1 - alpha.
  /// Default 0.5.
  double alpha = 0.5;
  /// L2 weight decay lambda >= 0 on every weight matrix (not the biases). Default 0.
  double weight_decay = 0.0;

  void check() const {
    if (!(alpha >= 0.0 && alpha <= 1.0))
      throw std::invalid_argument("latent::SupervisedAutoencoder: 'alpha' must be in [0, 1], got " +
                                  std::to_string(alpha));
    detail::check_non_negative(weight_decay, "weight_decay", "latent::SupervisedAutoencoder");
  }
  std::string describe() const {
    return "alpha=" + detail::number_text(alpha) +
           ", weight_decay=" + detail::number_text(weight_decay);
  }
};

/// One encoder feeding a decoder and a classifier head, trained on a weighted sum of the two
/// tasks (a supervised autoencoder: Le, Patterson and White, NeurIPS 2018):
///   alpha * Loss(decoder(code), x) + (1 - alpha) * HeadLoss(head(code), label)
///   + (weight_decay / 2) sum w^2,                                    code = encoder(x),
/// each term the mean over its samples: the reconstruction over every sample of the batch,
/// the classification over the labelled ones (0 when a batch has none). A sample labelled
/// `unlabelled` (-1) still trains the encoder through its reconstruction: unlabelled data
/// shapes the code the classifier reads. (So a batch's classification term weighs each of its
/// m labelled samples by 1/m: with few labels per batch, training weighs them more than
/// loss(X, labels), the mean over all labelled samples at once, which Validation reports.)
///
/// Reconstruction losses are sums over the input (about 60 nats an MNIST image with
/// cross-entropy), classification one cross-entropy per sample: pick alpha so that the two
/// terms are of one size (0.01 on MNIST), not 0.5 by habit.
///
/// Right:
///   SupervisedAutoencoder model(Sequential{Dense<float, ReLU>(784, 256), Dense<float>(256, 32)},
///                               Sequential{Dense<float, ReLU>(32, 256),
///                                          Dense<float, Sigmoid>(256, 784)},
///                               Sequential{Dense<float>(32, 10)}, rng, BinaryCrossEntropy{},
///                               SupervisedOptions{0.01});
///   fit(model, adam, images, labels, options, rng);      // labels: latent::unlabelled where unknown
///   Matrix<float> logits = model.predict(test_images);  // 10 x n
/// Wrong: a head ending in Softmax or Sigmoid layers; the head gives logits (Identity last),
/// its policy applies the link inside the loss.
///
/// Policies after the engine, in any order: the reconstruction loss (MeanSquaredError by
/// default, BinaryCrossEntropy, SigmoidCrossEntropy), the head's Classes (default) or
/// BinaryLabel, and SupervisedOptions. Parameters: encoder, decoder, head, in that order in one
/// arena (so with_head of models/transfer.hpp takes the encoder from it too). Inference on a
/// non-const model runs through its workspace, one thread at a time; encode, reconstruct and
/// predict on a const model allocate per call and may run on one model from several threads
/// at once (docs/threads.md).
template <class Encoder, class Decoder, class Head, class Loss = MeanSquaredError,
          class HeadKind = Classes>
class SupervisedAutoencoder {
 public:
  using Scalar = typename Encoder::Scalar;
  using S = Scalar;
  using target_type = Labels;
  using target_ref = LabelsRef;
  using LossType = Loss;
  using HeadKindType = HeadKind;
  static_assert(std::is_same_v<typename Decoder::Scalar, S> && std::is_same_v<typename Head::Scalar, S>,
                "latent::SupervisedAutoencoder: encoder, decoder and head must have one scalar type");
  static_assert(std::is_same_v<typename Loss::template target_type<S>, Matrix<S>>,
                "latent::SupervisedAutoencoder: Loss must compare outputs with real-valued targets "
                "(MeanSquaredError, BinaryCrossEntropy or SigmoidCrossEntropy)");
  static_assert(detail::is_kind<HeadKind, classifier_loss_kind>::value,
                "latent::SupervisedAutoencoder: HeadKind must be a classifier_loss_kind policy "
                "(Classes or BinaryLabel)");
  static_assert(std::is_same_v<typename Head::Last::Activation, Identity>,
                "latent::SupervisedAutoencoder: the head must end in an Identity layer: its "
                "outputs are logits");

  /// In: encoder, decoder, head (code -> logits); rng draws the initial parameters; then, in
  /// any order and each at most once, the loss, Classes or BinaryLabel, and SupervisedOptions.
  template <class Engine, class... Policies>
  SupervisedAutoencoder(Encoder encoder, Decoder decoder, Head head, Engine& rng,
                        const Policies&... policies)
      : encoder_(std::move(encoder)),
        decoder_(std::move(decoder)),
        head_(std::move(head)),
        options_(detail::pick<SupervisedOptions>(policies...)) {
    static_assert(((std::is_same_v<Policies, Loss> || std::is_same_v<Policies, HeadKind> ||
                    std::is_same_v<Policies, SupervisedOptions>) && ...),
                  "latent::SupervisedAutoencoder: after the engine come only the reconstruction "
                  "loss, Classes or BinaryLabel, and SupervisedOptions");
    static_assert(((detail::count_of<Policies, Policies...> == 1) && ...),
                  "latent::SupervisedAutoencoder: each policy may be given once");
    options_.check();
    const std::string who = "latent::SupervisedAutoencoder";
    const auto refuse = [&](const std::string& part, Index takes, const std::string& what, Index has) {
      throw std::invalid_argument(who + ": " + part + std::to_string(takes) + " but " + what +
                                  std::to_string(has));
    };
    if (decoder_.input_size() != encoder_.output_size())
      refuse("the decoder takes codes of ", decoder_.input_size(), "the encoder gives ",
             encoder_.output_size());
    if (decoder_.output_size() != encoder_.input_size())
      refuse("the decoder gives ", decoder_.output_size(), "the encoder takes ",
             encoder_.input_size());
    if (head_.input_size() != encoder_.output_size())
      refuse("the head takes codes of ", head_.input_size(), "the encoder gives ",
             encoder_.output_size());
    HeadKind::check_head(head_.output_size(), who);
    const Index size = head_.place(decoder_.place(encoder_.place(0)));
    std::vector<Segment> weights;
    encoder_.weights(weights);
    decoder_.weights(weights);
    head_.weights(weights);
    arena_ = ParameterArena<S>(size, std::move(weights));
    encoder_.initialize(arena_.values().data(), rng);
    decoder_.initialize(arena_.values().data(), rng);
    head_.initialize(arena_.values().data(), rng);
  }

  Index input_size() const { return encoder_.input_size(); }
  Index code_size() const { return encoder_.output_size(); }
  Index parameter_count() const { return arena_.size(); }
  const SupervisedOptions& options() const noexcept { return options_; }
  Vector<S>& parameters() noexcept { return arena_.values(); }
  const Vector<S>& parameters() const noexcept { return arena_.values(); }
  const Vector<S>& gradients() const noexcept { return arena_.gradients(); }
  const Encoder& encoder() const noexcept { return encoder_; }
  const Decoder& decoder() const noexcept { return decoder_; }
  const Head& head() const noexcept { return head_; }

  /// Codes of X (input_size x n): code_size x n.
  Matrix<S> encode(const ConstMatrixRef<S>& X) {
    return blocks(X, code_size(), "latent::SupervisedAutoencoder::encode",
                  [&](const ConstMatrixRef<S>& x) { return encoder_.forward(values(), x); });
  }
  /// decoder(encoder(X)): input_size x n.
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) {
    return blocks(X, input_size(), "latent::SupervisedAutoencoder::reconstruct",
                  [&](const ConstMatrixRef<S>& x) {
                    return decoder_.forward(values(), encoder_.forward(values(), x));
                  });
  }
  /// The head's logits for X: head outputs x n (softmax() of them are class probabilities;
  /// for BinaryLabel, a positive logit says 1).
  Matrix<S> predict(const ConstMatrixRef<S>& X) {
    return blocks(X, head_.output_size(), "latent::SupervisedAutoencoder::predict",
                  [&](const ConstMatrixRef<S>& x) {
                    return head_.forward(values(), encoder_.forward(values(), x));
                  });
  }

  /// As encode(X), through buffers of this call: safe from several threads at once.
  Matrix<S> encode(const ConstMatrixRef<S>& X) const {
    Matrix<S> codes;
    return blocks(X, code_size(), "latent::SupervisedAutoencoder::encode",
                  [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
                    encoder_.infer(values(), x, codes);
                    return codes;
                  });
  }
  /// As reconstruct(X), through buffers of this call: safe from several threads at once.
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) const {
    Matrix<S> codes, out;
    return blocks(X, input_size(), "latent::SupervisedAutoencoder::reconstruct",
                  [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
                    encoder_.infer(values(), x, codes);
                    decoder_.infer(values(), codes, out);
                    return out;
                  });
  }
  /// As predict(X), through buffers of this call: safe from several threads at once.
  Matrix<S> predict(const ConstMatrixRef<S>& X) const {
    Matrix<S> codes, logits;
    return blocks(X, head_.output_size(), "latent::SupervisedAutoencoder::predict",
                  [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
                    encoder_.infer(values(), x, codes);
                    head_.infer(values(), codes, logits);
                    return logits;
                  });
  }

  /// Throws std::invalid_argument unless `labels` holds n labels, each `unlabelled` or a valid
  /// class for the head.
  void check_targets(const LabelsRef& labels, Index n, std::string_view who) const {
    if (labels.cols() != n)
      throw std::invalid_argument(std::string(who) + ": " + std::to_string(labels.cols()) +
                                  " labels for " + std::to_string(n) + " samples");
    for (Index j = 0; j < n; ++j)
      if (labels(j) != unlabelled && !HeadKind::valid(labels(j), head_.output_size()))
        throw std::invalid_argument(std::string(who) + ": label " + std::to_string(labels(j)) +
                                    " of sample " + std::to_string(j) +
                                    " is neither latent::unlabelled (-1) nor a class of the " +
                                    HeadKind::name + " head");
  }

  /// alpha * (mean reconstruction loss over X) + (1 - alpha) * (mean classification loss over
  /// the labelled samples of X), without weight decay: what Validation reports.
  S loss(const ConstMatrixRef<S>& X, const LabelsRef& labels) {
    detail::check_data(X, input_size(), "latent::SupervisedAutoencoder::loss");
    check_targets(labels, X.cols(), "latent::SupervisedAutoencoder::loss");
    double reconstruction = 0.0, classification = 0.0;
    Index labelled = 0;
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      const ConstMatrixMap<S> codes = encoder_.forward(values(), X.middleCols(start, count));
      const ConstMatrixMap<S> output = decoder_.forward(values(), codes);
      reconstruction += static_cast<double>(Loss::template value<S>(
                            decoder_.last().activation(), decoder_.last().preactivation(), output,
                            X.middleCols(start, count))) *
                        static_cast<double>(count);
      const Index m = gather_labelled(head_.forward(values(), codes), labels.segment(start, count));
      if (m == 0) return;
      classification += static_cast<double>(HeadKind::template value<S>(
                            labelled_logits_.last(), labelled_labels_.head(m), scratch_)) *
                        static_cast<double>(m);
      labelled += m;
    });
    const double alpha = options_.alpha;
    const double mean_classification = labelled > 0 ? classification / static_cast<double>(labelled) : 0.0;
    return static_cast<S>(alpha * reconstruction / static_cast<double>(X.cols()) +
                          (1.0 - alpha) * mean_classification);
  }

  /// One step's work: the objective on the batch (X, labels) and its gradient in gradients(),
  /// replacing what was there. Shapes are checked here; values once for the whole data by fit.
  template <class Engine>
  S train_batch(const ConstMatrixRef<S>& X, const LabelsRef& labels, Engine& /*rng*/) {
    detail::check_shape(X, input_size(), "latent::SupervisedAutoencoder::train_batch");
    if (labels.cols() != X.cols())
      throw std::invalid_argument("latent::SupervisedAutoencoder::train_batch: " +
                                  std::to_string(labels.cols()) + " labels for " +
                                  std::to_string(X.cols()) + " samples");
    arena_.zero_gradients();
    S* gradients = arena_.gradients().data();
    const S alpha = static_cast<S>(options_.alpha);
    const ConstMatrixMap<S> codes = encoder_.forward(values(), X);
    MatrixMap<S> dcodes = code_gradient_.view(codes.rows(), codes.cols());  // dL/dcode

    S reconstruction(0);
    if (alpha > S(0)) {
      const ConstMatrixMap<S> output = decoder_.forward(values(), codes);
      MatrixMap<S> dZ = output_gradient_.view(output.rows(), output.cols());
      reconstruction = Loss::template value_and_gradient<S>(
          decoder_.last().activation(), decoder_.last().preactivation(), output, X, dZ);
      dZ *= alpha;
      dcodes = decoder_.backward_preactivation(values(), gradients, codes, dZ, true);
    } else {
      dcodes.setZero();
    }

    // The head runs on the whole batch, so its workspaces have the batch's size whatever the
    // number m of labels in it; the loss reads the m labelled columns, and the head's gradient
    // is zero in the others.
    S classification(0);
    if (alpha < S(1)) {
      const ConstMatrixMap<S> logits = head_.forward(values(), codes);
      const Index m = gather_labelled(logits, labels);
      if (m > 0) {
        MatrixMap<S> dlabelled = labelled_gradient_.view(logits.rows(), m);
        classification = HeadKind::template value_and_gradient<S>(
            labelled_logits_.last(), labelled_labels_.head(m), dlabelled, scratch_);
        MatrixMap<S> dlogits = head_gradient_.view(logits.rows(), logits.cols());
        dlogits.setZero();
        for (Index k = 0; k < m; ++k)
          dlogits.col(labelled_columns_[static_cast<std::size_t>(k)]) = (S(1) - alpha) * dlabelled.col(k);
        dcodes += head_.backward_preactivation(values(), gradients, codes, dlogits, true);
      }
    }
    encoder_.backward(values(), gradients, X, dcodes, false);

    S objective = alpha * reconstruction + (S(1) - alpha) * classification;
    if (options_.weight_decay > 0.0)
      objective += arena_.add_weight_decay(static_cast<S>(options_.weight_decay));
    return objective;
  }

 private:
  const S* values() const noexcept { return arena_.values().data(); }

  template <class F>
  Matrix<S> blocks(const ConstMatrixRef<S>& X, Index rows, const char* who, F&& f) const {
    detail::check_data(X, input_size(), who, true);
    return detail::infer_column_blocks(X, rows, std::forward<F>(f));
  }

  // Copies the logits of the labelled samples into labelled_logits_, their labels into
  // labelled_labels_ and their columns into labelled_columns_; returns how many there are.
  // Buffers are sized by the batch, not by m, so a steady-state step allocates nothing.
  Index gather_labelled(const ConstMatrixRef<S>& logits, const LabelsRef& labels) {
    const Index n = labels.cols();
    if (labelled_labels_.size() < n) labelled_labels_.resize(n);
    if (labelled_columns_.size() < static_cast<std::size_t>(n)) labelled_columns_.resize(static_cast<std::size_t>(n));
    labelled_logits_.view(logits.rows(), n);
    labelled_gradient_.view(logits.rows(), n);
    scratch_.view(1, n);
    Index m = 0;
    for (Index j = 0; j < n; ++j) {
      if (labels(j) == unlabelled) continue;
      labelled_labels_(m) = labels(j);
      labelled_columns_[static_cast<std::size_t>(m)] = j;
      ++m;
    }
    MatrixMap<S> chosen = labelled_logits_.view(logits.rows(), m);
    for (Index k = 0; k < m; ++k) chosen.col(k) = logits.col(labelled_columns_[static_cast<std::size_t>(k)]);
    return m;
  }

  Encoder encoder_;
  Decoder decoder_;
  Head head_;
  SupervisedOptions options_;
  ParameterArena<S> arena_;
  detail::Workspace<S> output_gradient_, code_gradient_, head_gradient_, labelled_logits_,
      labelled_gradient_, scratch_;
  Labels labelled_labels_;
  std::vector<Index> labelled_columns_;
};

template <class Encoder, class Decoder, class Head, class Engine, class... Policies>
SupervisedAutoencoder(Encoder, Decoder, Head, Engine&, const Policies&...)
    -> SupervisedAutoencoder<Encoder, Decoder, Head,
                             detail::find_kind_t<loss_kind, MeanSquaredError, Policies...>,
                             detail::find_kind_t<classifier_loss_kind, Classes, Policies...>>;

}  // namespace latent

#endif  // LATENT_MODELS_SUPERVISED_HPP
