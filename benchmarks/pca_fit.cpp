// Seconds to fit Pca on MNIST's 60,000 x 784 training images, in float and in double, with the
// exact solver (covariance eigendecomposition) and the randomised one (Halko et al., 2011, its
// default 10 extra sketch columns and 4 power iterations), for k = 32 and 64 components. Each
// configuration is fitted --repeats times; the CSV has the median and the fastest, and the
// test MSE per pixel of the fit, so that the randomised path's accuracy shows beside its speed.
//
//   pca_fit --repeats 3 --csv out/bench/pca_fit.csv
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <latent/io/mnist.hpp>
#include <latent/latent.hpp>

#include "../examples/mnist_support.hpp"
#include "support/bench_support.hpp"

namespace {

using namespace latent;

struct Settings {
  std::vector<Index> components{32, 64};
  Index repeats = 3;
  int threads = 0;
  std::string csv = "out/bench/pca_fit.csv";
};

template <class S>
void measure(const char* scalar, const Settings& settings, const Matrix<float>& train,
             const Matrix<float>& test, bench::Csv& csv) {
  const Matrix<S> data = train.cast<S>();
  const Matrix<S> test_data = test.cast<S>();
  for (const PcaSolver solver : {PcaSolver::exact, PcaSolver::randomized})
    for (const Index k : settings.components) {
      const char* solver_name = solver == PcaSolver::exact ? "exact" : "randomized";
      std::vector<double> seconds;
      Pca<S> pca(PcaOptions{k, solver});
      for (Index r = 0; r < settings.repeats; ++r) {
        examples::Stopwatch clock;
        pca.fit(data);
        seconds.push_back(clock.seconds());
      }
      const double median = bench::median(seconds);
      const double fastest = *std::min_element(seconds.begin(), seconds.end());
      const double mse = static_cast<double>(pca.reconstruction_error(test_data)) / 784.0;
      csv.add(scalar, solver_name, k, settings.repeats, median, fastest, mse);
      std::printf("%-6s %-10s k = %2lld  median %6.2f s  fastest %6.2f s  test MSE per pixel %.5f\n",
                  scalar, solver_name, static_cast<long long>(k), median, fastest, mse);
      std::fflush(stdout);
    }
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  std::cerr << "fitting on " << mnist.train.images.rows() << " x " << mnist.train.images.cols()
            << ", " << latent::threads() << " threads\n";
  bench::Csv csv(settings.csv,
                 "scalar,solver,components,repeats,seconds_median,seconds_fastest,test_mse_per_pixel");
  measure<float>("float", settings, mnist.train.images, mnist.test.images, csv);
  measure<double>("double", settings, mnist.train.images, mnist.test.images, csv);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"Seconds to fit PCA on MNIST's training images, exact and randomised."};
  app.add_option("--components", settings.components, "Values of k")->check(CLI::Range(1, 784))->capture_default_str();
  app.add_option("--repeats", settings.repeats, "Fits per configuration")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--threads", settings.threads, "Threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--csv", settings.csv, "CSV file to write")->capture_default_str();
  return examples::parse_and_run(app, argc, argv, "pca_fit", [&] { return run(settings); });
}
