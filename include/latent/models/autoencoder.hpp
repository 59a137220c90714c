#ifndef LATENT_MODELS_AUTOENCODER_HPP
#define LATENT_MODELS_AUTOENCODER_HPP

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/parameters.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/detail/inference.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/losses.hpp"
#include "latent/models/code_penalty.hpp"
#include "latent/models/contractive.hpp"
#include "latent/models/corruption.hpp"

namespace latent {

/// Options of Autoencoder.
struct AutoencoderOptions {
  /// L2 weight decay lambda >= 0 on every weight matrix (not the biases): the training
  /// objective gains (lambda / 2) sum w^2. Default 0.
  double weight_decay = 0.0;

  void check() const { detail::check_non_negative(weight_decay, "weight_decay", "latent::Autoencoder"); }
};

/// An autoencoder: code = encoder(x), reconstruction = decoder(code), trained to minimise
///   Loss(decoder(encoder(corrupt(x))), x) + Penalty(code) + (weight_decay / 2) sum w^2.
/// Encoder and decoder are any Sequentials of layers that follow the layer contract (Dense,
/// TiedDense), with the same scalar; the encoder's output size is the code size and the decoder must give back the
/// input size. The policies make the family:
/// - Loss: MeanSquaredError (default), BinaryCrossEntropy (fused, stable logits path after a
///   Sigmoid output layer), SigmoidCrossEntropy;
/// - Corruption (models/corruption.hpp): NoCorruption (default), GaussianNoise, MaskingNoise,
///   SaltAndPepper: a denoising autoencoder; applied in training only;
/// - Penalty (models/code_penalty.hpp, models/contractive.hpp): NoPenalty (default), L1Penalty,
///   KLSparsity (sparse), ContractivePenalty (contractive).
/// Pass the policies (and AutoencoderOptions) after the engine, in any order; the class
/// deduces its type from them:
///
///   Rng rng(42);
///   Autoencoder model(Sequential{Dense<float, ReLU>(784, 64)},
///                     Sequential{Dense<float, Sigmoid>(64, 784)}, rng,
///                     BinaryCrossEntropy{}, MaskingNoise(0.3));
///   Adam<float> adam(1e-3);
///   fit(model, adam, images, FitOptions{}, rng);
///   Matrix<float> codes = model.encode(images);   // 64 x n
///
/// The model owns one parameter arena for both halves (encoder first). Inference on a
/// non-const model (encode, decode, reconstruct, loss) runs through the model's workspace,
/// allocation-free once warm but one thread at a time; on a const model (encode, decode,
/// reconstruct), through buffers allocated by each call, so several threads may share it
/// (docs/threads.md).
template <class Encoder, class Decoder, class Loss = MeanSquaredError,
          class Corruption = NoCorruption, class Penalty = NoPenalty>
class Autoencoder {
 public:
  using Scalar = typename Encoder::Scalar;
  using S = Scalar;
  static_assert(std::is_same_v<typename Decoder::Scalar, S>,
                "latent::Autoencoder: encoder and decoder must have the same scalar type");
  static_assert(std::is_same_v<typename Loss::template target_type<S>, Matrix<S>>,
                "latent::Autoencoder: Loss must compare outputs with real-valued targets "
                "(MeanSquaredError, BinaryCrossEntropy or SigmoidCrossEntropy)");

  using LossType = Loss;
  using CorruptionType = Corruption;
  using PenaltyType = Penalty;

  /// In: encoder, decoder; rng draws the initial parameters; then, in any order and each at
  /// most once, the loss, corruption and penalty objects and AutoencoderOptions (those not
  /// given are default-constructed).
  template <class Engine, class... Policies>
  Autoencoder(Encoder encoder, Decoder decoder, Engine& rng, const Policies&... policies)
      : encoder_(std::move(encoder)),
        decoder_(std::move(decoder)),
        options_(detail::pick<AutoencoderOptions>(policies...)),
        corruption_(detail::pick<Corruption>(policies...)),
        penalty_(detail::pick<Penalty>(policies...)) {
    static_assert(((std::is_same_v<Policies, Loss> || std::is_same_v<Policies, Corruption> ||
                    std::is_same_v<Policies, Penalty> ||
                    std::is_same_v<Policies, AutoencoderOptions>) && ...),
                  "latent::Autoencoder: after the engine come only the model's loss, corruption, "
                  "penalty and AutoencoderOptions");
    static_assert(((detail::count_of<Policies, Policies...> == 1) && ...),
                  "latent::Autoencoder: each policy may be given once");
    options_.check();
    // The policies checked their options when built; their fields are public, so again here.
    detail::check_policy(corruption_);
    detail::check_policy(penalty_);
    if (encoder_.output_size() != decoder_.input_size())
      throw std::invalid_argument("latent::Autoencoder: the encoder gives codes of " +
                                  std::to_string(encoder_.output_size()) +
                                  " but the decoder takes " +
                                  std::to_string(decoder_.input_size()));
    if (decoder_.output_size() != encoder_.input_size())
      throw std::invalid_argument("latent::Autoencoder: the decoder gives " +
                                  std::to_string(decoder_.output_size()) +
                                  " outputs but the encoder takes " +
                                  std::to_string(encoder_.input_size()) + " inputs");
    const Index size = decoder_.place(encoder_.place(0));
    std::vector<Segment> weights, ties;
    encoder_.weights(weights);
    decoder_.ties(ties);
    check_ties(ties, weights);
    // Each layer writes only its own range in a step, unless a tied layer (in either half) or
    // the penalty writes into another's: then the whole buffer is zeroed first and every
    // backward adds.
    encoder_.ties(ties);
    if (ties.empty() && std::is_same_v<Penalty, NoPenalty>) gradient_write_ = GradientWrite::replace;
    decoder_.weights(weights);
    arena_ = ParameterArena<S>(size, std::move(weights));
    encoder_.initialize(arena_.values().data(), rng);
    decoder_.initialize(arena_.values().data(), rng);
  }

  Index input_size() const { return encoder_.input_size(); }
  Index code_size() const { return encoder_.output_size(); }
  Index parameter_count() const { return arena_.size(); }
  const AutoencoderOptions& options() const noexcept { return options_; }
  const Corruption& corruption() const noexcept { return corruption_; }
  const Penalty& penalty() const noexcept { return penalty_; }

  /// The flat parameter vector (encoder first, then decoder) and its gradient.
  Vector<S>& parameters() noexcept { return arena_.values(); }
  const Vector<S>& parameters() const noexcept { return arena_.values(); }
  const Vector<S>& gradients() const noexcept { return arena_.gradients(); }
  Encoder& encoder() noexcept { return encoder_; }
  const Encoder& encoder() const noexcept { return encoder_; }
  Decoder& decoder() noexcept { return decoder_; }
  const Decoder& decoder() const noexcept { return decoder_; }

  /// Codes of X (input_size x n): code_size x n.
  Matrix<S> encode(const ConstMatrixRef<S>& X) {
    Matrix<S> codes(code_size(), X.cols());
    encode(X, codes);
    return codes;
  }
  /// As encode(X), into codes (code_size x n): allocates nothing once the workspace is warm.
  void encode(const ConstMatrixRef<S>& X, MatrixRef<S> codes) {
    detail::check_data(X, input_size(), "latent::Autoencoder::encode", true);
    detail::check_output(codes, code_size(), X.cols(), "latent::Autoencoder::encode");
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      codes.middleCols(start, count) = encoder_.forward(values(), X.middleCols(start, count));
    });
  }

  /// As encode(X), through buffers of this call: safe from several threads at once.
  Matrix<S> encode(const ConstMatrixRef<S>& X) const {
    detail::check_data(X, input_size(), "latent::Autoencoder::encode", true);
    Matrix<S> codes;
    return detail::infer_column_blocks(
        X, code_size(), [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
          encoder_.infer(values(), x, codes);
          return codes;
        });
  }

  /// Outputs of the decoder for codes (code_size x n): input_size x n.
  Matrix<S> decode(const ConstMatrixRef<S>& codes) {
    Matrix<S> out(input_size(), codes.cols());
    decode(codes, out);
    return out;
  }
  void decode(const ConstMatrixRef<S>& codes, MatrixRef<S> out) {
    detail::check_data(codes, code_size(), "latent::Autoencoder::decode", true);
    detail::check_output(out, input_size(), codes.cols(), "latent::Autoencoder::decode");
    detail::for_each_column_block(codes.cols(), [&](Index start, Index count) {
      out.middleCols(start, count) = decoder_.forward(values(), codes.middleCols(start, count));
    });
  }

  /// As decode(codes), through buffers of this call: safe from several threads at once.
  Matrix<S> decode(const ConstMatrixRef<S>& codes) const {
    detail::check_data(codes, code_size(), "latent::Autoencoder::decode", true);
    Matrix<S> out;
    return detail::infer_column_blocks(
        codes, input_size(), [&](const ConstMatrixRef<S>& c) -> const Matrix<S>& {
          decoder_.infer(values(), c, out);
          return out;
        });
  }

  /// decode(encode(X)).
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) {
    Matrix<S> out(input_size(), X.cols());
    reconstruct(X, out);
    return out;
  }
  void reconstruct(const ConstMatrixRef<S>& X, MatrixRef<S> out) {
    detail::check_data(X, input_size(), "latent::Autoencoder::reconstruct", true);
    detail::check_output(out, input_size(), X.cols(), "latent::Autoencoder::reconstruct");
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      out.middleCols(start, count) =
          decoder_.forward(values(), encoder_.forward(values(), X.middleCols(start, count)));
    });
  }

  /// As reconstruct(X), through buffers of this call: safe from several threads at once.
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) const {
    detail::check_data(X, input_size(), "latent::Autoencoder::reconstruct", true);
    Matrix<S> codes, out;
    return detail::infer_column_blocks(
        X, input_size(), [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
          encoder_.infer(values(), x, codes);
          decoder_.infer(values(), codes, out);
          return out;
        });
  }

  /// The reconstruction loss of X, by Loss's reduction (mean over samples); no weight decay.
  S loss(const ConstMatrixRef<S>& X) {
    detail::check_data(X, input_size(), "latent::Autoencoder::loss");
    double total = 0.0;
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      const ConstMatrixRef<S> block = X.middleCols(start, count);
      const ConstMatrixMap<S> output = decoder_.forward(values(), encoder_.forward(values(), block));
      total += static_cast<double>(Loss::template value<S>(
                   decoder_.last().activation(), decoder_.last().preactivation(), output, block)) *
               static_cast<double>(count);
    });
    return static_cast<S>(total / static_cast<double>(X.cols()));
  }

  /// One step's work: the training objective on the batch X (input_size x n; its shape is
  /// checked here, its values once for the whole data by fit) and its gradient in gradients(),
  /// replacing what was there. Returns the objective. Corruption draws from rng.
  template <class Engine>
  S train_batch(const ConstMatrixRef<S>& X, Engine& rng) {
    detail::check_shape(X, input_size(), "latent::Autoencoder::train_batch");
    if (gradient_write_ == GradientWrite::add) arena_.zero_gradients();
    S* gradients = arena_.gradients().data();
    const ConstMatrixRef<S> input = corrupt(X, rng);
    const ConstMatrixMap<S> codes = encoder_.forward(values(), input);
    const ConstMatrixMap<S> output = decoder_.forward(values(), codes);
    MatrixMap<S> dZ = output_gradient_.view(output.rows(), output.cols());
    S objective = Loss::template value_and_gradient<S>(
        decoder_.last().activation(), decoder_.last().preactivation(), output, X, dZ);
    const ConstMatrixMap<S> dcodes =
        decoder_.backward_preactivation(values(), gradients, codes, dZ, true, gradient_write_);
    if constexpr (std::is_same_v<Penalty, NoPenalty>) {
      encoder_.backward(values(), gradients, input, dcodes, false, gradient_write_);
    } else {
      MatrixMap<S> dH = code_gradient_.view(dcodes.rows(), dcodes.cols());
      dH = dcodes;
      objective += penalty_.template apply<S>(encoder_, values(), gradients, input, codes, dH);
      encoder_.backward(values(), gradients, input, dH, false);
    }
    if (options_.weight_decay > 0.0)
      objective += arena_.add_weight_decay(static_cast<S>(options_.weight_decay));
    return objective;
  }

 private:
  const S* values() const noexcept { return arena_.values().data(); }

  // Every weight a tied decoder layer uses must be one of the encoder's weight matrices, same
  // place and same shape.
  static void check_ties(const std::vector<Segment>& ties,
                         const std::vector<Segment>& encoder_weights) {
    for (const Segment& tie : ties) {
      bool found = false;
      for (const Segment& w : encoder_weights)
        found = found || (w.offset == tie.offset && w.size == tie.size && w.rows == tie.rows);
      if (!found)
        throw std::invalid_argument(
            "latent::Autoencoder: a tied decoder layer shares weights that are not this "
            "encoder's; build the decoder with tied_decoder(encoder) from the same encoder");
    }
  }

  template <class Engine>
  ConstMatrixRef<S> corrupt(const ConstMatrixRef<S>& X, Engine& rng) {
    if constexpr (std::is_same_v<Corruption, NoCorruption>) {
      (void)rng;
      return X;
    } else {
      corruption_.apply(X, corrupted_.view(X.rows(), X.cols()), rng);
      return corrupted_.last();
    }
  }

  Encoder encoder_;
  Decoder decoder_;
  AutoencoderOptions options_;
  Corruption corruption_;
  Penalty penalty_;
  ParameterArena<S> arena_;
  GradientWrite gradient_write_ = GradientWrite::add;
  detail::Workspace<S> output_gradient_, code_gradient_, corrupted_;
};

template <class Encoder, class Decoder, class Engine, class... Policies>
Autoencoder(Encoder, Decoder, Engine&, const Policies&...)
    -> Autoencoder<Encoder, Decoder, detail::find_kind_t<loss_kind, MeanSquaredError, Policies...>,
                   detail::find_kind_t<corruption_kind, NoCorruption, Policies...>,
                   detail::find_kind_t<penalty_kind, NoPenalty, Policies...>>;

/// Readable names for the family (all one type; see Autoencoder for the policies).
template <class Encoder, class Decoder, class Corruption, class Loss = MeanSquaredError>
using DenoisingAutoencoder = Autoencoder<Encoder, Decoder, Loss, Corruption, NoPenalty>;
template <class Encoder, class Decoder, class Penalty, class Loss = MeanSquaredError>
using SparseAutoencoder = Autoencoder<Encoder, Decoder, Loss, NoCorruption, Penalty>;
template <class Encoder, class Decoder, class Loss = MeanSquaredError>
using ContractiveAutoencoder = Autoencoder<Encoder, Decoder, Loss, NoCorruption, ContractivePenalty>;

}  // namespace latent

#endif  // LATENT_MODELS_AUTOENCODER_HPP
