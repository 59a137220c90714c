// One-class anomaly detection on MNIST: for each digit d, models see only the training images
// of d; all 10,000 test images are then scored, d being normal and the other nine anomalies.
// Prints the ROC AUC per digit of PCA, a plain and a denoising autoencoder (reconstruction
// error) and a VAE (-log p(x), importance-weighted), and their means.
//
//   mnist_one_class --epochs 10 --out out/one_class
//
// Writes OUT/digit_<d>.png (for the plain autoencoder: the 10 test images it finds least
// anomalous, then the 10 it finds most anomalous) and OUT/metrics.json. Finds MNIST through
// MNIST_DIR (default data/mnist; scripts/get-mnist.sh fetches it).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <latent/io/mnist.hpp>
#include <latent/io/png.hpp>
#include <latent/latent.hpp>

#include "mnist_support.hpp"

namespace {

using namespace latent;

struct Settings {
  Index code = 32;
  Index hidden = 256;
  Index epochs = 10;
  Index batch = 64;
  Index iw_samples = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out = "out/one_class";
};

// The columns of X whose label is `digit`.
Matrix<float> images_of(const io::MnistSplit<float>& split, int digit) {
  std::vector<Index> columns;
  for (Index j = 0; j < split.labels.size(); ++j)
    if (split.labels(j) == digit) columns.push_back(j);
  Matrix<float> images(split.images.rows(), static_cast<Index>(columns.size()));
  for (std::size_t k = 0; k < columns.size(); ++k) images.col(static_cast<Index>(k)) = split.images.col(columns[k]);
  return images;
}

// The least and the most anomalous test images by `scores`, 10 of each, as one picture.
void write_extremes(const std::filesystem::path& path, const Matrix<float>& test,
                    const Eigen::RowVectorXd& scores) {
  std::vector<Index> order(static_cast<std::size_t>(scores.size()));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return scores(a) < scores(b); });
  Matrix<float> shown(test.rows(), 20);
  for (Index k = 0; k < 10; ++k) {
    shown.col(k) = test.col(order[static_cast<std::size_t>(k)]);
    shown.col(10 + k) = test.col(order[order.size() - 1 - static_cast<std::size_t>(k)]);
  }
  io::GridOptions grid;
  grid.zoom = 2;
  io::write_image_grid(path, shown, 28, 28, grid);
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  const Matrix<float>& test = mnist.test.images;
  const std::filesystem::path out(settings.out);
  std::filesystem::create_directories(out);

  const char* names[] = {"PCA", "plain", "denoising", "VAE"};
  std::vector<std::vector<double>> auc(4);
  examples::Stopwatch clock;
  std::printf("ROC AUC, digit d normal, the other nine anomalous (10,000 test images)\n");
  std::printf("digit %9s %9s %9s %9s\n", names[0], names[1], names[2], names[3]);
  for (int digit = 0; digit <= 9; ++digit) {
    const Matrix<float> train = images_of(mnist.train, digit);
    const Labels truth = (mnist.test.labels.array() != digit).cast<int>();
    Rng rng(settings.seed + static_cast<std::uint64_t>(digit));
    FitOptions options;
    options.epochs = settings.epochs;
    options.batch_size = settings.batch;
    const Index h = settings.hidden, c = settings.code;

    Pca<float> pca(c);
    pca.fit(train);
    auc[0].push_back(roc_auc(AnomalyDetector(reconstruction_error(pca)).score(test), truth));

    Autoencoder plain(Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)},
                      Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)}, rng,
                      BinaryCrossEntropy{});
    Adam<float> adam(1e-3);
    fit(plain, adam, train, options, rng);
    const Eigen::RowVectorXd plain_scores = AnomalyDetector(reconstruction_error(plain)).score(test);
    auc[1].push_back(roc_auc(plain_scores, truth));
    write_extremes(out / ("digit_" + std::to_string(digit) + ".png"), test, plain_scores);

    Autoencoder denoising(Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)},
                          Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)},
                          rng, BinaryCrossEntropy{}, MaskingNoise(0.25));
    Adam<float> adam2(1e-3);
    fit(denoising, adam2, train, options, rng);
    auc[2].push_back(roc_auc(AnomalyDetector(reconstruction_error(denoising)).score(test), truth));

    VariationalAutoencoder vae(Sequential{Dense<float, ReLU>(784, h)}, 20,
                               Sequential{Dense<float, ReLU>(20, h), Dense<float, Sigmoid>(h, 784)},
                               rng, Bernoulli{});
    Adam<float> adam3(1e-3);
    fit(vae, adam3, train, options, rng);
    auc[3].push_back(
        roc_auc(AnomalyDetector(negative_log_likelihood(vae, settings.iw_samples, rng)).score(test), truth));

    std::printf("%5d %9.4f %9.4f %9.4f %9.4f\n", digit, auc[0].back(), auc[1].back(),
                auc[2].back(), auc[3].back());
    std::fflush(stdout);
  }
  examples::Metrics metrics;
  std::printf(" mean");
  for (std::size_t m = 0; m < 4; ++m) {
    const double mean = std::accumulate(auc[m].begin(), auc[m].end(), 0.0) / 10.0;
    std::printf(" %9.4f", mean);
    metrics.add(std::string("mean_auc_") + names[m], mean);
    for (int digit = 0; digit <= 9; ++digit)
      metrics.add(std::string("auc_") + names[m] + "_" + std::to_string(digit), auc[m][static_cast<std::size_t>(digit)]);
  }
  std::printf("\n%.0f s; pictures: %s/digit_<d>.png (least anomalous, then most)\n", clock.seconds(),
              out.string().c_str());
  metrics.add("code_size", static_cast<double>(settings.code));
  metrics.add("hidden_size", static_cast<double>(settings.hidden));
  metrics.add("epochs", static_cast<double>(settings.epochs));
  metrics.add("iw_samples", static_cast<double>(settings.iw_samples));
  metrics.add("seconds", clock.seconds());
  metrics.write(out / "metrics.json");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"One-class anomaly detection on MNIST: ROC AUC of PCA, autoencoders and a VAE."};
  app.add_option("--iw-samples", settings.iw_samples, "Importance samples of the VAE's score")->check(CLI::Range(1, 100000))->capture_default_str();
  examples::add_common_options(app, settings);
  return examples::parse_and_run(app, argc, argv, "mnist_one_class", [&] { return run(settings); });
}
