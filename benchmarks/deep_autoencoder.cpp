// The classic target of Hinton and Salakhutdinov (Science, 2006): a 784-1000-500-250-30
// autoencoder on MNIST, whose average squared error per test image (summed over the 784
// pixels in [0, 1]) they report as 3.00, against 13.87 for 30-component PCA. This program
// trains that architecture for a budget of wall-clock minutes and records the test error after
// every epoch against the training seconds spent so far (evaluation not counted).
//
//   deep_autoencoder --minutes 20 --csv out/bench/deep_autoencoder.csv
//
// Recipe: ReLU hidden layers, a linear 30-d code, a sigmoid output under cross-entropy, Adam
// with the rate annealed on a cosine from --lr to --lr / 100 over the budget's seconds (set at
// the start of each epoch), --batch samples per step, L2 --weight-decay on the weights (1e-3:
// without it the network overfits, see docs/benchmarks.md) and --masking noise on the inputs
// (default none). Writes the curve (--csv: epoch, train_seconds, learning_rate, train_loss,
// test_squared_error_per_image, train_squared_error_per_image) and a summary beside PCA-30
// (--summary).
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <latent/io/mnist.hpp>
#include <latent/latent.hpp>

#include "../examples/mnist_support.hpp"
#include "support/bench_support.hpp"

namespace {

using namespace latent;

struct Settings {
  double minutes = 20.0;
  Index max_epochs = 1000;
  Index batch = 128;
  double lr = 1e-3;
  double weight_decay = 1e-3;
  double masking = 0.0;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string csv = "out/bench/deep_autoencoder.csv";
  std::string summary = "out/bench/deep_autoencoder_summary.csv";
};

// The 784-1000-500-250-30 architecture, with whichever corruption the recipe asks for.
template <class Corruption>
auto make_model(const Settings& settings, Corruption corruption, Rng& rng) {
  return Autoencoder(Sequential{Dense<float, ReLU>(784, 1000), Dense<float, ReLU>(1000, 500),
                                Dense<float, ReLU>(500, 250), Dense<float>(250, 30)},
                     Sequential{Dense<float, ReLU>(30, 250), Dense<float, ReLU>(250, 500),
                                Dense<float, ReLU>(500, 1000), Dense<float, Sigmoid>(1000, 784)},
                     rng, BinaryCrossEntropy{}, corruption, AutoencoderOptions{settings.weight_decay});
}

struct Best {
  double error = INFINITY;
  double seconds = 0.0;
};

// Trains for the budget, one fit per epoch; the errors are measured between them, untimed. The
// training error (on the first 10,000 training images) beside the test error tells overfitting
// from slow optimisation.
template <class Model>
Best train(Model& model, const Settings& settings, const Matrix<float>& train_images,
           const Matrix<float>& test, Rng& rng) {
  std::cerr << model.parameters().size() << " parameters, " << latent::threads() << " threads, "
            << settings.minutes << " minutes\n";
  const Matrix<float> train_sample = train_images.leftCols(10000);
  Adam<float> adam(settings.lr);
  FitOptions options;
  options.epochs = 1;
  options.batch_size = settings.batch;
  const double budget = settings.minutes * 60.0;

  bench::Csv csv(settings.csv,
                 "epoch,train_seconds,learning_rate,train_loss,test_squared_error_per_image,"
                 "train_squared_error_per_image");
  double trained = 0.0;
  Best best;
  for (Index epoch = 0; epoch < settings.max_epochs && trained < budget; ++epoch) {
    const double rate = bench::annealed_rate(settings.lr, trained / budget);
    adam.set_learning_rate(rate);
    const History history = fit(model, adam, train_images, options, rng);
    trained += history.last().seconds;
    const double error = bench::squared_error_per_image(model.reconstruct(test), test);
    const double train_error =
        bench::squared_error_per_image(model.reconstruct(train_sample), train_sample);
    if (error < best.error) best = {error, trained};
    csv.add(epoch + 1, trained, rate, history.last().train_loss, error, train_error);
    std::printf("epoch %3lld  %7.1f s  rate %.2e  squared error per image: test %.3f, train %.3f\n",
                static_cast<long long>(epoch + 1), trained, rate, error, train_error);
    std::fflush(stdout);
  }
  return best;
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;  // fit holds one too; this one also covers the evaluation
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  const Matrix<float>& train_images = mnist.train.images;
  const Matrix<float>& test = mnist.test.images;

  examples::Stopwatch pca_clock;
  Pca<float> pca(PcaOptions{30, PcaSolver::exact});
  pca.fit(train_images);
  const double pca_seconds = pca_clock.seconds();
  const double pca_error = bench::squared_error_per_image(pca.reconstruct(test), test);
  std::printf("PCA-30: %.2f squared error per test image (%.1f s)\n", pca_error, pca_seconds);

  Rng rng(settings.seed);
  Best best;
  if (settings.masking > 0.0) {
    auto model = make_model(settings, MaskingNoise(settings.masking), rng);
    best = train(model, settings, train_images, test, rng);
  } else {
    auto model = make_model(settings, NoCorruption{}, rng);
    best = train(model, settings, train_images, test, rng);
  }

  bench::Csv summary(settings.summary, "model,train_seconds,test_squared_error_per_image");
  summary.add("pca-30", pca_seconds, pca_error);
  summary.add("autoencoder 784-1000-500-250-30", best.seconds, best.error);
  std::printf("best: %.3f after %.0f s of training (PCA-30: %.2f; target 3.00)\n", best.error,
              best.seconds, pca_error);
  const double data_mb =
      static_cast<double>((train_images.size() + test.size()) * sizeof(float)) / (1 << 20);
  std::printf("peak resident memory %.0f MiB; the training and test images %.0f MiB\n",
              bench::peak_rss_mb(), data_mb);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"Hinton and Salakhutdinov's 784-1000-500-250-30 MNIST autoencoder, trained for a budget."};
  app.add_option("--minutes", settings.minutes, "Training budget (wall clock, evaluation excluded)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--max-epochs", settings.max_epochs, "At most this many epochs")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch", settings.batch, "Samples per step")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--lr", settings.lr, "Adam's initial learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--weight-decay", settings.weight_decay, "L2 penalty (lambda / 2) sum w^2 on the weights")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--masking", settings.masking, "Denoising: the fraction of input pixels set to 0 in training (0: none)")->check(CLI::Range(0.0, 0.99))->capture_default_str();
  app.add_option("--seed", settings.seed, "Seed of initialisation and shuffling")->capture_default_str();
  app.add_option("--threads", settings.threads, "Threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--csv", settings.csv, "CSV of the test error after each epoch")->capture_default_str();
  app.add_option("--summary", settings.summary, "CSV of the best error beside PCA-30")->capture_default_str();
  return examples::parse_and_run(app, argc, argv, "deep_autoencoder", [&] { return run(settings); });
}
