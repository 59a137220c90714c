#ifndef LATENT_MODELS_TRANSFER_HPP
#define LATENT_MODELS_TRANSFER_HPP

#include <stdexcept>
#include <string>

#include "latent/core/types.hpp"
#include "latent/layers/sequential.hpp"
#include "latent/models/feed_forward.hpp"

namespace latent {

/// Sequential transfer: a trained encoder under a classifier head, as one supervised network.
/// The three steps, with an autoencoder trained on unlabelled data:
///
///   // 1. the head alone on the frozen code (the encoder runs once, not every epoch)
///   FeedForward<Sequential<Dense<float>>, SoftmaxCrossEntropy> head(
///       Sequential{Dense<float>(32, 10)}, rng);
///   fit(head, adam, autoencoder.encode(X), labels, options, rng);
///   // 2. encoder and head as one network, starting from both trained parameter sets
///   auto classifier = with_head(autoencoder, head);
///   // 3. optionally, fine-tune the whole encoder on the labels (small steps keep the code)
///   Adam<float> slow(1e-4);
///   fit(classifier, slow, X, labels, options, rng);
///   Matrix<float> logits = classifier.predict(X_test);
///
/// `model` is any model whose `encoder()` is a Sequential placed first in its parameter
/// buffer (Autoencoder, SupervisedAutoencoder); the new network's parameters are copies, so
/// training it leaves `model` and `head` as they were. Throws std::invalid_argument, naming
/// both layers, if the head does not take the encoder's code.
template <class Model, class HeadNetwork, class Loss>
auto with_head(const Model& model, const FeedForward<HeadNetwork, Loss>& head) {
  const auto& encoder = model.encoder();
  auto network = concatenate(encoder, head.network());
  using S = typename Model::Scalar;
  const Index encoder_size = encoder.parameter_count();
  if (encoder.first().offset() != 0)
    throw std::invalid_argument("latent::with_head: the model's encoder does not come first in "
                                "its parameters (it starts at " +
                                std::to_string(encoder.first().offset()) + ")");
  Vector<S> parameters(encoder_size + head.parameter_count());
  parameters << model.parameters().head(encoder_size), head.parameters();
  return FeedForward<decltype(network), Loss>::from_parameters(std::move(network), parameters,
                                                               head.options());
}

}  // namespace latent

#endif  // LATENT_MODELS_TRANSFER_HPP
