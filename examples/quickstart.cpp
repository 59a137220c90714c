#include <latent/latent.hpp>
#include <iostream>

int main() {
  using namespace latent;
  Rng rng(42);  // one seeded engine: same seed, same model
  Matrix<float> mixing(64, 8), factors(8, 2000);
  fill_normal(mixing, 0.0, 1.0, rng);
  fill_normal(factors, 0.0, 1.0, rng);
  Matrix<float> data = (mixing * factors).array().logistic();  // 64 x 2000, one sample per column

  Autoencoder model(Sequential{Dense<float, ReLU>(64, 32), Dense<float, Identity>(32, 8)},
                    Sequential{Dense<float, ReLU>(8, 32), Dense<float, Sigmoid>(32, 64)}, rng);
  Adam<float> adam(1e-3);
  FitOptions options;
  options.epochs = 30;  // batches of 32 samples by default
  fit(model, adam, data, options, rng, ProgressBar());
  Matrix<float> codes = model.encode(data);  // 8 x 2000
  std::cout << "squared error per sample: " << model.loss(data) << '\n';
}
