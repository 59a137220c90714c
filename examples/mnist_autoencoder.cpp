// Trains an autoencoder on MNIST and compares it with PCA at the same code size.
//
//   mnist_autoencoder --model plain --code 32 --epochs 20 --out out/autoencoder
//
//   mnist_autoencoder --model conv --code 32 --epochs 20 --out out/conv
//
// Writes OUT/reconstructions.png (test digits above their reconstructions), OUT/filters.png
// (rows of the first weight matrix, or the first convolution's kernels), OUT/metrics.json and
// OUT/model.latent. Finds MNIST through
// MNIST_DIR (default data/mnist; scripts/get-mnist.sh fetches it).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <type_traits>

#include <latent/io/checkpoint.hpp>
#include <latent/io/mnist.hpp>
#include <latent/io/model_file.hpp>
#include <latent/io/png.hpp>
#include <latent/latent.hpp>

#include "mnist_support.hpp"

namespace {

using namespace latent;

struct Settings {
  std::string model = "plain";
  Index code = 32;
  Index hidden = 512;
  Index epochs = 20;
  Index batch = 64;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out = "out/autoencoder";
  std::string checkpoint;
};

/// The first layer's weights as pictures: a Dense layer's rows as 28 x 28 images (up to 100),
/// a convolution's kernels of its first input channel.
template <class Layer>
void write_filters(const Layer& first, const float* values, const std::filesystem::path& path) {
  io::GridOptions grid;
  grid.scale = io::PixelScale::per_image;
  if constexpr (std::is_same_v<Layer, Conv2d<float, ReLU>>) {
    const Index size = first.kernel().size();
    grid.zoom = 8;
    io::write_image_grid(path, first.weight(values).topRows(size * size), size, size, grid);
  } else {
    const Index filters = std::min<Index>(first.output_size(), 100);
    grid.zoom = 2;
    io::write_image_grid(path, first.weight(values).topRows(filters).transpose(), 28, 28, grid);
  }
}

template <class Model>
int train_and_report(Model& model, const Settings& settings, const io::Mnist<float>& mnist,
                     Rng& rng) {
  const std::filesystem::path out(settings.out);
  std::filesystem::create_directories(out);
  const Matrix<float>& train = mnist.train.images;
  const Matrix<float>& test = mnist.test.images;

  std::cout << "model " << settings.model << ": " << model.encoder().name() << " -> "
            << model.decoder().name() << ", " << model.parameters().size() << " parameters\n";
  Adam<float> adam(settings.lr);
  FitOptions options;
  options.epochs = settings.epochs;
  options.batch_size = settings.batch;
  examples::Stopwatch clock;
  const auto train_with = [&](auto&... checkpoint) {
    return fit(model, adam, train, options, rng, ProgressBar(std::cout, false), Validation(test),
               checkpoint...);
  };
  io::Checkpoint checkpoint(settings.checkpoint);
  const History history = settings.checkpoint.empty() ? train_with() : train_with(checkpoint);
  const double seconds = clock.seconds();

  const double mse = examples::mse_per_pixel(model.reconstruct(test), test);
  examples::Stopwatch pca_clock;
  Pca<float> pca(settings.code);
  pca.fit(train);
  const double pca_mse = examples::mse_per_pixel(pca.inverse_transform(pca.transform(test)), test);
  const double pca_seconds = pca_clock.seconds();
  std::printf("test MSE per pixel: %.5f (PCA with %lld components: %.5f, %.1f%% lower)\n", mse,
              static_cast<long long>(settings.code), pca_mse, 100.0 * (1.0 - mse / pca_mse));

  const Matrix<float> shown = test.leftCols(30);
  io::write_comparison(out / "reconstructions.png", shown, model.reconstruct(shown), 28, 28, 10, 2);
  write_filters(model.encoder().first(), model.parameters().data(), out / "filters.png");
  io::save(model, out / "model.latent");

  examples::Metrics metrics;
  metrics.add("model", settings.model);
  metrics.add("code_size", static_cast<double>(settings.code));
  metrics.add("hidden_size", static_cast<double>(settings.hidden));
  metrics.add("epochs", static_cast<double>(history.epochs.size()));
  metrics.add("batch_size", static_cast<double>(settings.batch));
  metrics.add("learning_rate", settings.lr);
  metrics.add("seed", static_cast<double>(settings.seed));
  metrics.add("threads", static_cast<double>(latent::threads()));
  metrics.add("seconds", seconds);
  metrics.add("samples_per_second", history.epochs.back().samples_per_second);
  metrics.add("train_loss", history.epochs.back().train_loss);
  metrics.add("test_loss", history.epochs.back().validation_loss);
  metrics.add("test_mse_per_pixel", mse);
  metrics.add("pca_test_mse_per_pixel", pca_mse);
  metrics.add("pca_seconds", pca_seconds);
  metrics.write(out / "metrics.json");
  std::cout << "wrote " << (out / "reconstructions.png").string() << ", "
            << (out / "filters.png").string() << ", " << (out / "metrics.json").string() << ", "
            << (out / "model.latent").string() << '\n';
  return 0;
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;  // fit holds one too; this one also covers the evaluation
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  Rng rng(settings.seed);
  const Index h = settings.hidden, c = settings.code;
  // The deep models: 784-h-c, ReLU inside, a linear code, a sigmoid output under cross-entropy;
  // "conv": 1x28x28 -> 16x14x14 -> 32x7x7 -> c by strided convolutions, mirrored by transposed
  // ones (--hidden does not apply).
  const auto decoder = [&] {
    return Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)};
  };
  if (settings.model == "plain") {
    Autoencoder model(Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)}, decoder(), rng,
                      BinaryCrossEntropy{});
    return train_and_report(model, settings, mnist, rng);
  }
  if (settings.model == "tied") {
    Sequential encoder{Dense<float, ReLU>(784, h), Dense<float>(h, c)};
    Autoencoder model(encoder, tied_decoder<Sigmoid>(encoder), rng, BinaryCrossEntropy{});
    return train_and_report(model, settings, mnist, rng);
  }
  if (settings.model == "denoising") {
    Autoencoder model(Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)}, decoder(), rng,
                      BinaryCrossEntropy{}, MaskingNoise(0.25));
    return train_and_report(model, settings, mnist, rng);
  }
  if (settings.model == "sparse") {  // codes in (0, 1), on average 10% active
    Autoencoder model(Sequential{Dense<float, ReLU>(784, h), Dense<float, Sigmoid>(h, c)},
                      decoder(), rng, BinaryCrossEntropy{}, KLSparsity(0.1, 1.0));
    return train_and_report(model, settings, mnist, rng);
  }
  if (settings.model == "contractive") {  // the penalty is exact for a one-layer encoder
    Autoencoder model(Sequential{Dense<float, Sigmoid>(784, c)}, decoder(), rng,
                      BinaryCrossEntropy{}, ContractivePenalty(0.01));
    return train_and_report(model, settings, mnist, rng);
  }
  if (settings.model == "conv") {  // fewer parameters than "plain", a better reconstruction
    Autoencoder model(
        Sequential{Conv2d<float, ReLU>({1, 28, 28}, 16, Kernel(3).stride(2).padding(1)),
                   Conv2d<float, ReLU>({16, 14, 14}, 32, Kernel(3).stride(2).padding(1)),
                   Flatten<float>({32, 7, 7}), Dense<float>(32 * 7 * 7, c)},
        Sequential{Dense<float, ReLU>(c, 32 * 7 * 7), Reshape<float>({32, 7, 7}),
                   ConvTranspose2d<float, ReLU>({32, 7, 7}, 16, Kernel(4).stride(2).padding(1)),
                   ConvTranspose2d<float, Sigmoid>({16, 14, 14}, 1, Kernel(4).stride(2).padding(1))},
        rng, BinaryCrossEntropy{});
    return train_and_report(model, settings, mnist, rng);
  }
  throw std::invalid_argument("unknown model '" + settings.model + "'");
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"Trains an autoencoder on MNIST and compares its test reconstruction with PCA."};
  app.add_option("--model", settings.model, "Variant")
      ->check(CLI::IsMember({"plain", "tied", "sparse", "denoising", "contractive", "conv"}))
      ->capture_default_str();
  app.add_option("--lr", settings.lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--checkpoint", settings.checkpoint,
                 "Save the run to this file every epoch, and resume it from there if it exists");
  examples::add_common_options(app, settings);
  return examples::parse_and_run(app, argc, argv, "mnist_autoencoder", [&] { return run(settings); });
}
