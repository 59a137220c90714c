// An outside project's view of latent: one include, a small autoencoder, a few epochs.
// Exits 0 only if training lowered the reconstruction loss.
#include <latent/latent.hpp>

#include <cstdio>

int main() {
  using namespace latent;
  Rng rng(1);
  Matrix<float> data(16, 256);
  fill_uniform(data, 0.0, 1.0, rng);

  Autoencoder<Sequential<Dense<float, Tanh>>, Sequential<Dense<float, Sigmoid>>, BinaryCrossEntropy>
      model(Sequential{Dense<float, Tanh>(16, 8)}, Sequential{Dense<float, Sigmoid>(8, 16)}, rng);
  const float before = model.loss(data);

  Adam<float> adam(1e-2);
  FitOptions options;
  options.epochs = 20;
  options.batch_size = 32;
  fit(model, adam, data, options, rng);
  const float after = model.loss(data);

  std::printf("latent %d.%d.%d: loss %.4f -> %.4f\n", LATENT_VERSION_MAJOR, LATENT_VERSION_MINOR,
              LATENT_VERSION_PATCH, before, after);
  return after < before ? 0 : 1;
}
