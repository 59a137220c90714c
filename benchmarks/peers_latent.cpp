// The latent side of issue 10's comparison with PyTorch and scikit-learn: the workloads of
// benchmarks/peers/pytorch_peers.py, under the same protocol, printing the same CSV rows
// (framework,workload,threads,variant,metric,value). One measurement per process;
// benchmarks/peers/compare.sh runs each three times and prints the table.
//
//   MNIST_DIR=data/mnist peers_latent --workload W1 --threads 2 [--quick]
//   peers_latent --workload pca --variant randomized
//   peers_latent --list          the workloads this build measures, one a line
//
// Protocol: full MNIST (pixels / 255, float32), Adam 1e-3, fit's reshuffle every epoch;
// samples/s = 4 x 60,000 / the time of epochs 2-5 as fit records it (the training steps with
// the batch gather, no evaluation). --quick: 10,000 samples, 3 epochs (samples/s from epochs
// 2-3), fewer inference calls, PCA on 10,000 samples: a smoke run, not a figure to quote.
//
//   W1   784-512-256-64-256-512-784, ReLU (the code too), sigmoid output, MSE, batch 128; also
//        the peak resident memory beside the size of the training data
//   W2   784-64-784, sigmoid code and output, MSE, batch 64
//   W3   VAE 784-400-(20, 20)-400-784, ReLU, Bernoulli decoder, batch 128; full mode trains
//        10 epochs and reports the test loss (negative ELBO per sample, one draw)
//   W4   the convolutional autoencoder (mnist_autoencoder --model conv), MSE, batch 128
//   W5   W1's encoder after one epoch: latency of one sample (median of many calls) and the
//        time to encode 1,000 samples, each beside the same products alone (its GEMM bound)
//   pca  Pca<float> on the training set, k = 64, solver exact or randomized, 1 thread: seconds
//        to fit; test MSE per pixel at k = 32
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <latent/io/mnist.hpp>
#include <latent/latent.hpp>

#include "support/bench_support.hpp"

namespace {

using namespace latent;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string workload;
  int threads = 1;
  std::string variant = "plain";
  bool quick = false;
  std::uint64_t seed = 1;
};

void emit(const Settings& settings, const char* metric, double value) {
  std::printf("latent,%s,%d,%s,%s,%.6g\n", settings.workload.c_str(), settings.threads,
              settings.variant.c_str(), metric, value);
  std::fflush(stdout);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The training images (all 60,000, or the first 10,000 with --quick), and the test images.
struct Data {
  Matrix<float> train, test;  // 784 x n
};

Data load(const Settings& settings) {
  io::Mnist<float> mnist = io::load_mnist<float>();
  Data data{std::move(mnist.train.images), std::move(mnist.test.images)};
  if (settings.quick) data.train = data.train.leftCols(10000).eval();
  return data;
}

/// Trains with fit: Adam 1e-3, batches of `batch`, reshuffled every epoch.
template <class Model>
History train(Model& model, const Matrix<float>& X, Index batch, Index epochs, Rng& rng) {
  Adam<float> adam(1e-3);
  FitOptions options;
  options.epochs = epochs;
  options.batch_size = batch;
  return fit(model, adam, X, options, rng);
}

/// Samples/s over epochs 2 to `last` (1-based) of a history: epoch 1 warms up.
double samples_per_second(const History& history, std::size_t last, Index samples) {
  double seconds = 0.0;
  for (std::size_t epoch = 1; epoch < last; ++epoch) seconds += history.epochs[epoch].seconds;
  return static_cast<double>(last - 1) * static_cast<double>(samples) / seconds;
}

/// The last epoch of the samples/s window: 5, or 3 with --quick.
std::size_t measured_epochs(const Settings& settings) { return settings.quick ? 3 : 5; }

auto make_w1(Rng& rng) {
  return Autoencoder(
      Sequential{Dense<float, ReLU>(784, 512), Dense<float, ReLU>(512, 256), Dense<float, ReLU>(256, 64)},
      Sequential{Dense<float, ReLU>(64, 256), Dense<float, ReLU>(256, 512), Dense<float, Sigmoid>(512, 784)},
      rng);
}

void w1(const Settings& settings) {
  const Data data = load(settings);
  emit(settings, "peak_rss_loaded_mb", bench::peak_rss_mb());
  Rng rng(settings.seed);
  auto model = make_w1(rng);
  const std::size_t epochs = measured_epochs(settings);
  const History history = train(model, data.train, 128, static_cast<Index>(epochs), rng);
  emit(settings, "samples_per_s", samples_per_second(history, epochs, data.train.cols()));
  emit(settings, "peak_rss_mb", bench::peak_rss_mb());
  emit(settings, "data_mb", static_cast<double>(data.train.size() * sizeof(float)) / (1 << 20));
}

void w2(const Settings& settings) {
  const Data data = load(settings);
  Rng rng(settings.seed);
  Autoencoder model(Sequential{Dense<float, Sigmoid>(784, 64)},
                    Sequential{Dense<float, Sigmoid>(64, 784)}, rng);
  const std::size_t epochs = measured_epochs(settings);
  const History history = train(model, data.train, 64, static_cast<Index>(epochs), rng);
  emit(settings, "samples_per_s", samples_per_second(history, epochs, data.train.cols()));
}

void w3(const Settings& settings) {
  const Data data = load(settings);
  Rng rng(settings.seed);
  VariationalAutoencoder vae(Sequential{Dense<float, ReLU>(784, 400)}, 20,
                             Sequential{Dense<float, ReLU>(20, 400), Dense<float, Sigmoid>(400, 784)},
                             rng, Bernoulli{});
  // Full mode trains 10 epochs for the test loss; samples/s still comes from epochs 2-5.
  const std::size_t epochs = measured_epochs(settings);
  const History history = train(vae, data.train, 128, settings.quick ? 3 : 10, rng);
  emit(settings, "samples_per_s", samples_per_second(history, epochs, data.train.cols()));
  if (!settings.quick) emit(settings, "test_loss", static_cast<double>(vae.loss(data.test)));
}

/// Median seconds of `calls` calls of f, after a few unmeasured ones.
template <class F>
double median_seconds(int calls, F&& f) {
  for (int i = 0; i < 10; ++i) f(i);
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    f(i);
    times.push_back(seconds_since(start));
  }
  return bench::median(times);
}

void w5(const Settings& settings) {
  const Data data = load(settings);
  Rng rng(settings.seed);
  auto model = make_w1(rng);
  train(model, data.train, 128, 1, rng);  // a trained encoder's values, not a fresh one's
  const int calls = settings.quick ? 500 : 5000;
  Matrix<float> code(64, 1), codes(64, 1000);
  const double latency = median_seconds(calls, [&](int i) {
    model.encode(data.train.col(i % data.train.cols()), code);
  });
  const double block = median_seconds(settings.quick ? 20 : 100, [&](int) {
    model.encode(data.train.leftCols(1000), codes);
  });
  emit(settings, "latency_us", latency * 1e6);
  emit(settings, "encode_1000_ms", block * 1e3);

  // The same three products alone (W X per layer, no bias or activation): W5's GEMM bound.
  const std::vector<Index> widths{784, 512, 256, 64};
  std::vector<Matrix<float>> weights;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i)
    weights.push_back(Matrix<float>::Constant(widths[i + 1], widths[i], 0.01f));
  std::vector<Matrix<float>> outputs(weights.size());
  const auto products = [&](Index n) {
    for (std::size_t i = 0; i < weights.size(); ++i) outputs[i].resize(widths[i + 1], n);
    return median_seconds(n == 1 ? calls : (settings.quick ? 20 : 100), [&](int i) {
      outputs[0].noalias() = weights[0] * data.train.middleCols(n == 1 ? i % 1000 : 0, n);
      for (std::size_t layer = 1; layer < outputs.size(); ++layer)
        outputs[layer].noalias() = weights[layer] * outputs[layer - 1];
    });
  };
  emit(settings, "gemm_latency_us", products(1) * 1e6);
  emit(settings, "gemm_encode_1000_ms", products(1000) * 1e3);
}

void pca(const Settings& settings) {
  if (settings.variant != "exact" && settings.variant != "randomized")
    throw std::invalid_argument("pca: --variant must be exact or randomized");
  const Data data = load(settings);
  PcaOptions options;
  options.solver = settings.variant == "exact" ? PcaSolver::exact : PcaSolver::randomized;
  options.components = 64;
  const auto start = Clock::now();
  Pca<float>(options).fit(data.train);
  emit(settings, "fit_s", seconds_since(start));
  options.components = 32;
  Pca<float> pca32(options);
  pca32.fit(data.train);
  const double squared = (pca32.reconstruct(data.test) - data.test).cast<double>().squaredNorm();
  emit(settings, "test_mse_k32", squared / static_cast<double>(data.test.size()));
}

/// W4, the convolutional autoencoder of examples/mnist_autoencoder.cpp (--model conv) and of
/// pytorch_peers.py's ConvAutoencoder, under MSE as there.
void w4(const Settings& settings) {
  const Data data = load(settings);
  Rng rng(settings.seed);
  Autoencoder model(
      Sequential{Conv2d<float, ReLU>({1, 28, 28}, 16, Kernel(3).stride(2).padding(1)),
                 Conv2d<float, ReLU>({16, 14, 14}, 32, Kernel(3).stride(2).padding(1)),
                 Flatten<float>({32, 7, 7}), Dense<float>(32 * 7 * 7, 32)},
      Sequential{Dense<float, ReLU>(32, 32 * 7 * 7), Reshape<float>({32, 7, 7}),
                 ConvTranspose2d<float, ReLU>({32, 7, 7}, 16, Kernel(4).stride(2).padding(1)),
                 ConvTranspose2d<float, Sigmoid>({16, 14, 14}, 1, Kernel(4).stride(2).padding(1))},
      rng);
  const std::size_t epochs = measured_epochs(settings);
  const History history = train(model, data.train, 128, static_cast<Index>(epochs), rng);
  emit(settings, "samples_per_s", samples_per_second(history, epochs, data.train.cols()));
}

const std::map<std::string, std::function<void(const Settings&)>> workloads{
    {"W1", w1}, {"W2", w2}, {"W3", w3}, {"W4", w4}, {"W5", w5}, {"pca", pca}};

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  bool list = false;
  CLI::App app{"latent's side of the comparison with PyTorch: one measurement, CSV rows on stdout"};
  std::vector<std::string> names;
  for (const auto& entry : workloads) names.push_back(entry.first);
  app.add_option("--workload", settings.workload, "What to measure")->check(CLI::IsMember(names));
  app.add_option("--threads", settings.threads, "Threads (set_threads; PCA runs on one)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--variant", settings.variant, "pca: exact or randomized")->capture_default_str();
  app.add_flag("--quick", settings.quick, "A smoke run: 10,000 samples, 3 epochs");
  app.add_option("--seed", settings.seed, "Seed of initialisation and data order")->capture_default_str();
  app.add_flag("--list", list, "Print the workloads this build measures, one a line");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (list) {
    for (const std::string& name : names) std::cout << name << '\n';
    return 0;
  }
  try {
    if (settings.workload.empty()) throw std::invalid_argument("--workload is required (see --help)");
    if (settings.workload == "pca") settings.threads = 1;
    set_threads(settings.threads);
    workloads.at(settings.workload)(settings);
  } catch (const std::exception& e) {
    std::cerr << "peers_latent: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
