// The variational autoencoder against published figures, on MNIST's 10,000 test images: the
// negative ELBO and the importance-weighted negative log-likelihood (Burda, Grosse and
// Salakhutdinov, 2016) with k samples, in nats per image.
//
//   vae_likelihood --recipe pytorch --csv out/bench/vae_pytorch.csv
//   vae_likelihood --recipe dynamic --minutes 30 --csv out/bench/vae_dynamic.csv
//
// Recipes:
//   pytorch  the PyTorch examples' VAE: 784-400-20-400-784, ReLU, Bernoulli decoder on pixels in
//            [0, 1], Adam 1e-3 at a constant rate, batch 128, 10 epochs
//   dynamic  dynamically binarised MNIST (every epoch trains on fresh binary pixels drawn as
//            Bernoulli(pixel); the test images are binarised once, with a fixed seed), measured
//            as in Burda et al.'s Table 1; 784-h-h-c-h-h-784 (default h = 500, c = 50), ReLU,
//            Adam from --lr annealed on a cosine to --lr / 100 over a budget of --minutes
//            (set at the start of each epoch), batch 128
// The CSV has one row per k: epochs, training seconds, test negative ELBO, IW NLL and the
// seconds the estimate took.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <latent/io/mnist.hpp>
#include <latent/latent.hpp>

#include "../examples/mnist_support.hpp"
#include "support/bench_support.hpp"

namespace {

using namespace latent;

struct Settings {
  std::string recipe = "pytorch";
  Index epochs = 0;  // 0: the recipe's (10 for pytorch, as many as the budget allows for dynamic)
  double minutes = 30.0;
  Index hidden = 0;  // 0: the recipe's
  Index code = 0;    // 0: the recipe's
  Index batch = 128;
  double lr = 1e-3;
  std::vector<Index> iw_samples{100, 5000};
  Index test_images = 10000;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string csv = "out/bench/vae.csv";
};

/// Binary pixels drawn as Bernoulli(pixel), into `out` (same shape as `images`).
void binarise(const Matrix<float>& images, Matrix<float>& out, Rng& rng) {
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  out.resize(images.rows(), images.cols());
  for (Index j = 0; j < images.cols(); ++j)
    for (Index i = 0; i < images.rows(); ++i) out(i, j) = uniform(rng) < images(i, j) ? 1.0f : 0.0f;
}

template <class Vae>
void evaluate(Vae& vae, const Settings& settings, const std::string& architecture, Index epochs,
              double seconds, const Matrix<float>& test, Rng& rng) {
  const double negative_elbo = -vae.elbo(test, rng).template cast<double>().mean();
  std::printf("%s: %lld epochs in %.0f s; test (%lld images) negative ELBO %.2f nats\n",
              settings.recipe.c_str(), static_cast<long long>(epochs), seconds,
              static_cast<long long>(test.cols()), negative_elbo);
  bench::Csv csv(settings.csv,
                 "recipe,architecture,epochs,train_seconds,test_images,negative_elbo,k,iw_nll,"
                 "eval_seconds");
  for (const Index k : settings.iw_samples) {
    examples::Stopwatch clock;
    const double nll = -vae.log_likelihood(test, k, rng).template cast<double>().mean();
    const double eval_seconds = clock.seconds();
    csv.add(settings.recipe, architecture, epochs, seconds, test.cols(), negative_elbo, k, nll,
            eval_seconds);
    std::printf("  importance-weighted NLL, k = %lld: %.2f nats (%.0f s)\n",
                static_cast<long long>(k), nll, eval_seconds);
    std::fflush(stdout);
  }
}

int pytorch(const Settings& settings, const io::Mnist<float>& mnist) {
  const Index h = settings.hidden > 0 ? settings.hidden : 400;
  const Index c = settings.code > 0 ? settings.code : 20;
  Rng rng(settings.seed);
  VariationalAutoencoder vae(Sequential{Dense<float, ReLU>(784, h)}, c,
                             Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)},
                             rng, Bernoulli{});
  Adam<float> adam(settings.lr);
  FitOptions options;
  options.epochs = settings.epochs > 0 ? settings.epochs : 10;
  options.batch_size = settings.batch;
  examples::Stopwatch clock;
  const History history = fit(vae, adam, mnist.train.images, options, rng, ProgressBar(std::cerr, false));
  const double seconds = clock.seconds();
  const std::string architecture = "784-" + std::to_string(h) + "-" + std::to_string(c);
  evaluate(vae, settings, architecture, static_cast<Index>(history.epochs.size()), seconds,
           mnist.test.images.leftCols(settings.test_images), rng);
  return 0;
}

int dynamic(const Settings& settings, const io::Mnist<float>& mnist) {
  const Index h = settings.hidden > 0 ? settings.hidden : 500;
  const Index c = settings.code > 0 ? settings.code : 50;
  Rng rng(settings.seed);
  VariationalAutoencoder vae(
      Sequential{Dense<float, ReLU>(784, h), Dense<float, ReLU>(h, h)}, c,
      Sequential{Dense<float, ReLU>(c, h), Dense<float, ReLU>(h, h), Dense<float, Sigmoid>(h, 784)},
      rng, Bernoulli{});
  Matrix<float> test;
  Rng test_rng(20160101);  // the same binary test set for every run
  binarise(mnist.test.images.leftCols(settings.test_images), test, test_rng);

  Adam<float> adam(settings.lr);
  FitOptions options;
  options.epochs = 1;  // one fit per epoch, each on freshly binarised images
  options.batch_size = settings.batch;
  options.on_non_finite = NonFinite::skip_batch;
  const Index max_epochs = settings.epochs > 0 ? settings.epochs : 100000;
  const double budget = settings.minutes * 60.0;
  Matrix<float> train;
  double trained = 0.0;
  Index done = 0;
  while (done < max_epochs && trained < budget) {
    examples::Stopwatch clock;
    binarise(mnist.train.images, train, rng);
    const double rate = bench::annealed_rate(settings.lr, trained / budget);
    adam.set_learning_rate(rate);
    const History history = fit(vae, adam, train, options, rng);
    trained += clock.seconds();
    ++done;
    std::fprintf(stderr, "epoch %lld  %6.0f s  rate %.2e  train negative ELBO %.2f\n",
                 static_cast<long long>(done), trained, rate, history.last().train_loss);
  }
  const std::string architecture = "784-" + std::to_string(h) + "-" + std::to_string(h) + "-" +
                                   std::to_string(c);
  evaluate(vae, settings, architecture, done, trained, test, rng);
  return 0;
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;  // fit holds one too; this one also covers the evaluation
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  std::cerr << latent::threads() << " threads\n";
  return settings.recipe == "pytorch" ? pytorch(settings, mnist) : dynamic(settings, mnist);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"A VAE on MNIST measured against published likelihoods."};
  app.add_option("--recipe", settings.recipe, "pytorch or dynamic (see the file's comment)")
      ->check(CLI::IsMember({"pytorch", "dynamic"}))
      ->capture_default_str();
  app.add_option("--epochs", settings.epochs, "Epochs (0: the recipe's)")->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_option("--minutes", settings.minutes, "dynamic: training budget (wall clock)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--hidden", settings.hidden, "Hidden width (0: the recipe's)")->check(CLI::Range(0, 100000))->capture_default_str();
  app.add_option("--code", settings.code, "Latent size (0: the recipe's)")->check(CLI::Range(0, 784))->capture_default_str();
  app.add_option("--batch", settings.batch, "Samples per step")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--lr", settings.lr, "Adam's (initial) learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--iw-samples", settings.iw_samples, "Values of k for the importance-weighted NLL")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--test-images", settings.test_images, "Measure on the first N test images")->check(CLI::Range(1, 10000))->capture_default_str();
  app.add_option("--seed", settings.seed, "Seed of initialisation, shuffling and sampling")->capture_default_str();
  app.add_option("--threads", settings.threads, "Threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--csv", settings.csv, "CSV file to write")->capture_default_str();
  return examples::parse_and_run(app, argc, argv, "vae_likelihood", [&] { return run(settings); });
}
