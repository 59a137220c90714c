// Trains a variational autoencoder on MNIST (784-400-20 by default, Bernoulli decoder) and
// measures it: the test negative ELBO and the importance-weighted negative log-likelihood.
//
//   mnist_vae --epochs 10 --iw-samples 100 --out out/vae
//
// Writes OUT/samples.png (digits drawn from the prior), OUT/reconstructions.png, with --code 2
// OUT/latent_map.png (the decoder over a grid of codes), OUT/metrics.json and OUT/model.latent.
// Finds MNIST through MNIST_DIR (default data/mnist; scripts/get-mnist.sh fetches it).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <latent/io/mnist.hpp>
#include <latent/io/model_file.hpp>
#include <latent/io/png.hpp>
#include <latent/latent.hpp>

#include "mnist_support.hpp"

namespace {

using namespace latent;

struct Settings {
  Index code = 20;
  Index hidden = 400;
  Index epochs = 10;
  Index batch = 32;
  double lr = 3e-3;  // with the cosine schedule; measured best of 1e-3, 2e-3, 3e-3
  std::string schedule = "cosine";
  Index iw_samples = 100;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out = "out/vae";
};

// Codes at the standard normal's quantiles on a side x side grid, so that each cell covers the
// same prior mass: the decoder's picture of the whole 2-D latent space.
Matrix<float> latent_grid(Index side) {
  Matrix<float> codes(2, side * side);
  for (Index row = 0; row < side; ++row)
    for (Index column = 0; column < side; ++column) {
      const auto quantile = [&](Index i) {
        const double p = (static_cast<double>(i) + 0.5) / static_cast<double>(side);
        // the normal quantile: Newton's method on Phi(z) = p, from z = 0
        double z = 0.0;
        for (int step = 0; step < 50; ++step) {
          const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
          const double density = 0.3989422804014327 * std::exp(-0.5 * z * z);  // 1/sqrt(2 pi)
          z -= (cdf - p) / density;
        }
        return static_cast<float>(z);
      };
      codes(0, row * side + column) = quantile(column);
      codes(1, row * side + column) = -quantile(row);  // up is positive, as on a plot
    }
  return codes;
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;  // fit holds one too; this one also covers the evaluation
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  const Matrix<float>& train = mnist.train.images;
  const Matrix<float>& test = mnist.test.images;
  const std::filesystem::path out(settings.out);
  std::filesystem::create_directories(out);

  Rng rng(settings.seed);
  const Index h = settings.hidden, c = settings.code;
  VariationalAutoencoder vae(Sequential{Dense<float, ReLU>(784, h)}, c,
                             Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)},
                             rng, Bernoulli{});
  Adam<float> adam(settings.lr);
  FitOptions options;
  options.epochs = settings.epochs;
  options.batch_size = settings.batch;
  examples::Stopwatch clock;
  const auto train_with = [&](auto schedule) {
    return fit(vae, adam, train, options, rng, ProgressBar(std::cout, false), Validation(test),
               schedule);
  };
  // Cosine annealing to a hundredth of the rate: the last epochs refine instead of jitter.
  const History history = settings.schedule == "cosine"
                              ? train_with(CosineAnnealing(settings.epochs, settings.lr / 100))
                              : train_with(ConstantRate{});
  const double seconds = clock.seconds();

  examples::Stopwatch evaluation;
  const double negative_elbo = -static_cast<double>(vae.elbo(test, rng).cast<double>().mean());
  const double nll =
      -static_cast<double>(vae.log_likelihood(test, settings.iw_samples, rng).cast<double>().mean());
  const double mse = examples::mse_per_pixel(vae.reconstruct(test), test);
  std::printf("test: negative ELBO %.2f nats, importance-weighted NLL (k = %lld) %.2f nats, "
              "MSE per pixel of the mean reconstruction %.5f (%.0f s)\n",
              negative_elbo, static_cast<long long>(settings.iw_samples), nll, mse,
              evaluation.seconds());

  io::GridOptions grid;
  grid.columns = 8;
  grid.zoom = 2;
  io::write_image_grid(out / "samples.png", vae.sample(64, rng), 28, 28, grid);
  const Matrix<float> shown = test.leftCols(30);
  io::write_comparison(out / "reconstructions.png", shown, vae.reconstruct(shown), 28, 28, 10, 2);
  if (c == 2) {
    grid.columns = 20;
    grid.padding = 0;
    grid.zoom = 1;
    io::write_image_grid(out / "latent_map.png", vae.decode(latent_grid(20)), 28, 28, grid);
  }
  io::save(vae, out / "model.latent");

  examples::Metrics metrics;
  metrics.add("model", "vae");
  metrics.add("code_size", static_cast<double>(c));
  metrics.add("hidden_size", static_cast<double>(h));
  metrics.add("epochs", static_cast<double>(history.epochs.size()));
  metrics.add("batch_size", static_cast<double>(settings.batch));
  metrics.add("learning_rate", settings.lr);
  metrics.add("schedule", settings.schedule);
  metrics.add("seed", static_cast<double>(settings.seed));
  metrics.add("threads", static_cast<double>(latent::threads()));
  metrics.add("seconds", seconds);
  metrics.add("samples_per_second", history.last().samples_per_second);
  metrics.add("test_negative_elbo", negative_elbo);
  metrics.add("iw_samples", static_cast<double>(settings.iw_samples));
  metrics.add("test_iw_nll", nll);
  metrics.add("test_mse_per_pixel", mse);
  metrics.write(out / "metrics.json");
  std::cout << "wrote " << (out / "samples.png").string() << ", "
            << (out / "reconstructions.png").string() << (c == 2 ? ", latent_map.png" : "")
            << ", " << (out / "metrics.json").string() << ", " << (out / "model.latent").string()
            << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"Trains a variational autoencoder on MNIST and reports its test likelihood."};
  app.add_option("--lr", settings.lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--schedule", settings.schedule, "Learning rate over the epochs")
      ->check(CLI::IsMember({"constant", "cosine"}))
      ->capture_default_str();
  app.add_option("--iw-samples", settings.iw_samples, "Importance samples k of the NLL estimate")->check(CLI::Range(1, 100000))->capture_default_str();
  examples::add_common_options(app, settings);
  return examples::parse_and_run(app, argc, argv, "mnist_vae", [&] { return run(settings); });
}
