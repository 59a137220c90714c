// Codes as embeddings: k-means (k = 10) on the test images and nearest-neighbour retrieval of
// training images, in three spaces: raw pixels, PCA codes and the codes of the autoencoder that
// scripts/demo.sh trains (loaded from its model file, so run the demo first, or
// mnist_autoencoder --model plain --code 32 --hidden 512).
//
//   mnist_embeddings --model out/autoencoder/model.latent
//
// Prints k-means purity and adjusted Rand index against the digit labels, and precision@10 of
// retrieval (test images as queries, training images as the database). Finds MNIST through
// MNIST_DIR (default data/mnist; scripts/get-mnist.sh fetches it).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include <latent/io/mnist.hpp>
#include <latent/io/model_file.hpp>
#include <latent/latent.hpp>

#include "mnist_support.hpp"

namespace {

using namespace latent;

struct Settings {
  std::string model = "out/autoencoder/model.latent";
  Index code = 32;
  Index hidden = 512;
  Index neighbours = 10;
  std::uint64_t seed = 1;
  int threads = 0;
};

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  Rng rng(settings.seed);
  const Index h = settings.hidden, c = settings.code;
  Autoencoder model(Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)},
                    Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)}, rng,
                    BinaryCrossEntropy{});
  io::load(model, settings.model);
  Pca<float> pca(c);
  pca.fit(mnist.train.images);

  struct Space {
    std::string name;
    Matrix<float> train, test;
  };
  const Space spaces[] = {
      {"pixels (784)", mnist.train.images, mnist.test.images},
      {"PCA (" + std::to_string(c) + ")", pca.transform(mnist.train.images), pca.transform(mnist.test.images)},
      {"autoencoder (" + std::to_string(c) + ")", model.encode(mnist.train.images), model.encode(mnist.test.images)}};
  std::printf("%-18s %15s %15s %14s\n", "space", "k-means purity", "k-means ARI",
              ("precision@" + std::to_string(settings.neighbours)).c_str());
  for (const Space& space : spaces) {
    KMeans<float> kmeans(KMeansOptions{10, 100, 4, settings.seed});
    const Labels clusters = kmeans.fit(space.test);
    const auto found = nearest_neighbours<float>(space.train, space.test, settings.neighbours);
    std::printf("%-18s %15.3f %15.3f %14.3f\n", space.name.c_str(), purity(clusters, mnist.test.labels),
                adjusted_rand_index(clusters, mnist.test.labels),
                precision_at_k(found, mnist.train.labels, mnist.test.labels));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"k-means and retrieval on MNIST in pixel, PCA and autoencoder space."};
  app.add_option("--model", settings.model, "Model file written by mnist_autoencoder --model plain")->capture_default_str();
  app.add_option("--code", settings.code, "Its code size")->check(CLI::Range(1, 784))->capture_default_str();
  app.add_option("--hidden", settings.hidden, "Its hidden layer size")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--neighbours", settings.neighbours, "k of precision@k")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--seed", settings.seed, "Seed of k-means")->capture_default_str();
  app.add_option("--threads", settings.threads, "Eigen threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  return examples::parse_and_run(app, argc, argv, "mnist_embeddings", [&] { return run(settings); });
}
