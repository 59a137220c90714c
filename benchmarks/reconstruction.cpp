// Reconstruction of the MNIST test images by PCA and by latent's autoencoders, at several code
// sizes: each model is fitted on the training images and measured on the 10,000 test images.
//
//   reconstruction --epochs 10 --csv out/bench/reconstruction.csv --picture out/bench/r.png
//
// Models (all Adam at --lr, --batch samples per step, --epochs passes, hidden width --hidden):
//   pca        Pca<float>, exact (covariance eigendecomposition)
//   linear     784-c-784, no activations, squared error: the autoencoder PCA is the optimum of
//   plain      784-h-c-h-784, ReLU inside, linear code, sigmoid output, cross-entropy
//   tied       plain with the decoder's weights tied to the encoder's
//   denoising  plain trained on inputs with 25% of the pixels masked to 0
//   sparse     plain with a sigmoid code, KL sparsity (rho 0.1, beta 1)
//   vae        784-h-c-h-784 VAE, Bernoulli decoder; reconstructed from the mean code
// The CSV has one row per model and code size: test MSE per pixel, squared error per image
// (sum over 784 pixels) and training seconds. The picture shows ten test digits (first row)
// above their PCA and plain-autoencoder reconstructions at code sizes 2, 8 and 32 (rows: PCA-2,
// AE-2, PCA-8, AE-8, PCA-32, AE-32; sizes not run are left out).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <latent/io/mnist.hpp>
#include <latent/io/png.hpp>
#include <latent/latent.hpp>

#include "../examples/mnist_support.hpp"
#include "support/bench_support.hpp"

namespace {

using namespace latent;

struct Settings {
  std::vector<Index> codes{2, 4, 8, 16, 32, 64};
  std::vector<std::string> models{"pca", "linear", "plain", "tied", "denoising", "sparse", "vae"};
  Index hidden = 512;
  Index epochs = 10;
  Index batch = 64;
  double lr = 1e-3;
  Index train_images = 60000;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string csv = "out/bench/reconstruction.csv";
  std::string picture = "out/bench/reconstructions.png";
};

struct Result {
  Matrix<float> reconstruction;  // 784 x test images
  double seconds = 0.0;
};

template <class Model>
Result train(Model& model, const Settings& settings, const Matrix<float>& train_images,
             const Matrix<float>& test, Rng& rng) {
  Adam<float> adam(settings.lr);
  FitOptions options;
  options.epochs = settings.epochs;
  options.batch_size = settings.batch;
  examples::Stopwatch clock;
  fit(model, adam, train_images, options, rng);
  const double seconds = clock.seconds();
  return {model.reconstruct(test), seconds};
}

Result run_model(const std::string& name, Index c, const Settings& settings,
                 const Matrix<float>& train_images, const Matrix<float>& test) {
  Rng rng(settings.seed);
  const Index h = settings.hidden;
  const auto encoder = [&] { return Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)}; };
  const auto decoder = [&] {
    return Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)};
  };
  if (name == "pca") {
    examples::Stopwatch clock;
    Pca<float> pca(PcaOptions{c, PcaSolver::exact});
    pca.fit(train_images);
    const double seconds = clock.seconds();
    return {pca.reconstruct(test), seconds};
  }
  if (name == "linear") {
    Autoencoder model(Sequential{Dense<float>(784, c)}, Sequential{Dense<float>(c, 784)}, rng);
    return train(model, settings, train_images, test, rng);
  }
  if (name == "plain") {
    Autoencoder model(encoder(), decoder(), rng, BinaryCrossEntropy{});
    return train(model, settings, train_images, test, rng);
  }
  if (name == "tied") {
    Sequential tied_encoder = encoder();
    Autoencoder model(tied_encoder, tied_decoder<Sigmoid>(tied_encoder), rng, BinaryCrossEntropy{});
    return train(model, settings, train_images, test, rng);
  }
  if (name == "denoising") {
    Autoencoder model(encoder(), decoder(), rng, BinaryCrossEntropy{}, MaskingNoise(0.25));
    return train(model, settings, train_images, test, rng);
  }
  if (name == "sparse") {
    Autoencoder model(Sequential{Dense<float, ReLU>(784, h), Dense<float, Sigmoid>(h, c)},
                      decoder(), rng, BinaryCrossEntropy{}, KLSparsity(0.1, 1.0));
    return train(model, settings, train_images, test, rng);
  }
  if (name == "vae") {
    VariationalAutoencoder model(Sequential{Dense<float, ReLU>(784, h)}, c, decoder(), rng,
                                 Bernoulli{});
    return train(model, settings, train_images, test, rng);
  }
  throw std::invalid_argument("unknown model '" + name + "'");
}

// Ten test digits, the first of each class, in class order.
std::vector<Index> one_of_each_digit(const io::MnistSplit<float>& test) {
  std::vector<Index> picked(10, -1);
  for (Index j = 0; j < test.images.cols(); ++j) {
    Index& slot = picked[static_cast<std::size_t>(test.labels(j))];
    if (slot < 0) slot = j;
  }
  return picked;
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;  // fit holds one too; this one also covers the evaluation
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  const Matrix<float> train_images = mnist.train.images.leftCols(
      std::min<Index>(settings.train_images, mnist.train.images.cols()));
  const Matrix<float>& test = mnist.test.images;
  std::cerr << "fitting on " << train_images.cols() << " training images, " << settings.epochs
            << " epochs, " << latent::threads() << " threads\n";

  bench::Csv csv(settings.csv,
                 "model,code,epochs,train_images,train_seconds,test_mse_per_pixel,"
                 "test_squared_error_per_image");
  const std::vector<Index> shown = one_of_each_digit(mnist.test);
  std::map<std::pair<std::string, Index>, Matrix<float>> pictured;  // (model, code) -> 784 x 10
  std::printf("%-10s %5s %12s %10s %9s\n", "model", "code", "MSE/pixel", "SE/image", "train s");
  for (const Index c : settings.codes)
    for (const std::string& name : settings.models) {
      const Result result = run_model(name, c, settings, train_images, test);
      const double mse = examples::mse_per_pixel(result.reconstruction, test);
      const Index epochs = name == "pca" ? 0 : settings.epochs;
      csv.add(name, c, epochs, train_images.cols(), result.seconds, mse, mse * 784.0);
      std::printf("%-10s %5lld %12.5f %10.2f %9.1f\n", name.c_str(), static_cast<long long>(c),
                  mse, mse * 784.0, result.seconds);
      std::fflush(stdout);
      if (name == "pca" || name == "plain") {
        Matrix<float>& kept = pictured[{name, c}];
        kept.resize(784, 10);
        for (Index k = 0; k < 10; ++k) kept.col(k) = result.reconstruction.col(shown[static_cast<std::size_t>(k)]);
      }
    }

  if (!settings.picture.empty()) {
    std::vector<Matrix<float>> rows;
    Matrix<float> originals(784, 10);
    for (Index k = 0; k < 10; ++k) originals.col(k) = test.col(shown[static_cast<std::size_t>(k)]);
    rows.push_back(originals);
    for (const Index c : {2, 8, 32})
      for (const char* name : {"pca", "plain"})
        if (const auto found = pictured.find({name, c}); found != pictured.end())
          rows.push_back(found->second);
    Matrix<float> grid(784, static_cast<Index>(rows.size()) * 10);
    for (std::size_t r = 0; r < rows.size(); ++r) grid.middleCols(static_cast<Index>(r) * 10, 10) = rows[r];
    io::GridOptions options;
    options.columns = 10;
    options.zoom = 2;
    io::write_image_grid(settings.picture, grid, 28, 28, options);
    std::cerr << "wrote " << settings.picture << '\n';
  }
  std::cerr << "wrote " << settings.csv << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"Reconstruction of MNIST's test images: PCA against latent's autoencoders."};
  app.add_option("--codes", settings.codes, "Code sizes")->check(CLI::Range(1, 784))->capture_default_str();
  app.add_option("--models", settings.models, "Models")
      ->check(CLI::IsMember({"pca", "linear", "plain", "tied", "denoising", "sparse", "vae"}))
      ->capture_default_str();
  app.add_option("--hidden", settings.hidden, "Hidden layer width")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--epochs", settings.epochs, "Passes over the training images")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch", settings.batch, "Samples per step")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--lr", settings.lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--train-images", settings.train_images, "Fit on the first N training images")->check(CLI::Range(2, 60000))->capture_default_str();
  app.add_option("--seed", settings.seed, "Seed of initialisation, shuffling and noise")->capture_default_str();
  app.add_option("--threads", settings.threads, "Threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--csv", settings.csv, "CSV file to write")->capture_default_str();
  app.add_option("--picture", settings.picture, "PNG of digits beside PCA and autoencoder reconstructions ('' for none)")->capture_default_str();
  return examples::parse_and_run(app, argc, argv, "reconstruction", [&] { return run(settings); });
}
