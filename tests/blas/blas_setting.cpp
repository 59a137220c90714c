// Compiled, never linked or run, by tests/CMakeLists.txt under the BLAS settings it checks: a
// training step instantiates the products that call BLAS directly under EIGEN_USE_BLAS.
#include <latent/latent.hpp>

float step(const latent::Matrix<float>& X) {
  using namespace latent;
  Rng rng(1);
  Autoencoder model(Sequential{Dense<float, ReLU>(784, 64)}, Sequential{Dense<float, Sigmoid>(64, 784)}, rng);
  Adam<float> adam(1e-3);
  const float loss = model.train_batch(X, rng);
  adam.step(model.parameters(), model.gradients());
  return loss;
}
