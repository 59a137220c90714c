#ifndef LATENT_MODELS_AUTOENCODER_HPP
#define LATENT_MODELS_AUTOENCODER_HPP

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/core/parameters.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/losses.hpp"

namespace latent {

/// Options of Autoencoder.
struct AutoencoderOptions {
  /// L2 weight decay lambda >= 0 on every weight matrix (not the biases): the training
  /// objective gains (lambda / 2) sum w^2. Default 0.
  double weight_decay = 0.0;

  void check() const { detail::check_non_negative(weight_decay, "weight_decay", "latent::Autoencoder"); }
};

/// An autoencoder: code = encoder(x), reconstruction = decoder(code), trained to minimise
/// Loss(reconstruction, x) (+ weight decay). Encoder and decoder are any Sequentials (or layers
/// that follow the layer contract) with the same scalar; the encoder's output size is the code
/// size and the decoder must give back the input size.
///
/// The model owns one parameter arena for both halves. With BinaryCrossEntropy after a Sigmoid
/// output layer the loss takes the fused, stable logits path.
///
///   Rng rng(42);
///   Autoencoder model(Sequential{Dense<float, ReLU>(784, 64)},
///                     Sequential{Dense<float, Sigmoid>(64, 784)}, rng);
///   Adam<float> adam(1e-3);
///   fit(model, adam, images, FitOptions{}, rng);
///   Matrix<float> codes = model.encode(images);   // 64 x n
///
/// Inference (encode, decode, reconstruct, loss) runs through the model's workspace: it is not
/// safe to call on one model from two threads at once.
template <class Encoder, class Decoder, class Loss = MeanSquaredError>
class Autoencoder {
 public:
  using Scalar = typename Encoder::Scalar;
  using S = Scalar;
  static_assert(std::is_same_v<typename Decoder::Scalar, S>,
                "latent::Autoencoder: encoder and decoder must have the same scalar type");
  static_assert(std::is_same_v<typename Loss::template target_type<S>, Matrix<S>>,
                "latent::Autoencoder: Loss must compare outputs with real-valued targets "
                "(MeanSquaredError, BinaryCrossEntropy or SigmoidCrossEntropy)");

  /// In: encoder, decoder; rng draws the initial parameters; options.
  template <class Engine>
  Autoencoder(Encoder encoder, Decoder decoder, Engine& rng, AutoencoderOptions options = {})
      : encoder_(std::move(encoder)), decoder_(std::move(decoder)), options_(options) {
    options_.check();
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
    std::vector<Segment> weights;
    encoder_.weights(weights);
    decoder_.weights(weights);
    arena_ = ParameterArena<S>(size, std::move(weights));
    encoder_.initialize(arena_.values().data(), rng);
    decoder_.initialize(arena_.values().data(), rng);
  }

  Index input_size() const { return encoder_.input_size(); }
  Index code_size() const { return encoder_.output_size(); }
  Index parameter_count() const { return arena_.size(); }
  const AutoencoderOptions& options() const noexcept { return options_; }

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
  /// checked here, its values once for the whole data by fit) and its gradient in gradients(), replacing what was there. Returns the objective.
  template <class Engine>
  S train_batch(const ConstMatrixRef<S>& X, Engine& /*rng*/) {
    detail::check_shape(X, input_size(), "latent::Autoencoder::train_batch");
    arena_.gradients().setZero();
    S* gradients = arena_.gradients().data();
    const ConstMatrixMap<S> codes = encoder_.forward(values(), X);
    const ConstMatrixMap<S> output = decoder_.forward(values(), codes);
    MatrixMap<S> dZ = output_gradient_.view(output.rows(), output.cols());
    S objective = Loss::template value_and_gradient<S>(
        decoder_.last().activation(), decoder_.last().preactivation(), output, X, dZ);
    const ConstMatrixMap<S> dcodes =
        decoder_.backward_preactivation(values(), gradients, codes, dZ, true);
    encoder_.backward(values(), gradients, X, dcodes, false);
    if (options_.weight_decay > 0.0)
      objective += arena_.add_weight_decay(static_cast<S>(options_.weight_decay));
    return objective;
  }

 private:
  const S* values() const noexcept { return arena_.values().data(); }

  Encoder encoder_;
  Decoder decoder_;
  AutoencoderOptions options_;
  ParameterArena<S> arena_;
  detail::Workspace<S> output_gradient_;
};

}  // namespace latent

#endif  // LATENT_MODELS_AUTOENCODER_HPP
