// Codes as features, when labels are scarce: all 60,000 training images are available, only n
// of their labels are used. A softmax classifier is trained
//   - on raw pixels and on PCA codes (the baselines),
//   - on the frozen codes of the autoencoder scripts/demo.sh saved (sequential transfer),
//   - on the whole encoder under that head, fine-tuned from those weights (with_head),
//   - jointly with the autoencoder: one encoder, a decoder and the head trained on
//     alpha * reconstruction + (1 - alpha) * classification over every image, labelled or not
//     (SupervisedAutoencoder),
// and its test accuracy printed for each n. Then the codes as embeddings: k-means (k = 10) on
// the test images and retrieval of training images by nearest neighbours, in pixel, PCA and
// autoencoder space. Writes OUT/neighbours.png (test images, each followed by its nearest
// training images in code space) and OUT/metrics.json.
//
//   mnist_features --model out/autoencoder/model.latent --labels 100,1000,60000
//
// Finds MNIST through MNIST_DIR (default data/mnist; scripts/get-mnist.sh fetches it).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include <latent/io/mnist.hpp>
#include <latent/io/model_file.hpp>
#include <latent/io/png.hpp>
#include <latent/latent.hpp>

#include "mnist_support.hpp"

namespace {

using namespace latent;

struct Settings {
  std::string model = "out/autoencoder/model.latent";
  Index code = 32;
  Index hidden = 512;
  std::vector<Index> labels = {100, 1000, 60000};
  Index samples = 300000;  // training samples each classifier sees, whatever n
  // Reconstruction is a sum over 784 pixels (about 60 nats an image), classification one
  // cross-entropy (about 0.1 to 2): a small alpha keeps the two terms of one size.
  double alpha = 0.01;
  double rate = 1e-3;  // Adam's rate for fine-tuning and joint training, cosine-annealed
  Index neighbours = 10;
  std::uint64_t seed = 1;
  int threads = 0;
  std::string out = "out/features";
};

using Codec = Autoencoder<Sequential<Dense<float, ReLU>, Dense<float>>,
                          Sequential<Dense<float, ReLU>, Dense<float, Sigmoid>>, BinaryCrossEntropy>;
using Softmax = FeedForward<Sequential<Dense<float>>, SoftmaxCrossEntropy>;

double accuracy(const Matrix<float>& logits, const Labels& truth) {
  Index right = 0;
  for (Index j = 0; j < logits.cols(); ++j) {
    Index predicted = 0;
    logits.col(j).maxCoeff(&predicted);
    right += predicted == truth(j);
  }
  return static_cast<double>(right) / static_cast<double>(truth.size());
}

// Each feature moved to mean 0 and standard deviation 1 over the training images (a constant
// feature is only centred).
class Standardizer {
 public:
  explicit Standardizer(const Matrix<float>& train)
      : mean_(train.rowwise().mean()),
        inverse_deviation_(((train.colwise() - mean_).array().square().rowwise().mean().sqrt() + 1e-6f)
                               .inverse()
                               .matrix()) {}
  Matrix<float> operator()(const Matrix<float>& X) const {
    return (X.colwise() - mean_).array().colwise() * inverse_deviation_.array();
  }

 private:
  Vector<float> mean_, inverse_deviation_;
};

// Epochs enough to show each classifier `samples` samples, in batches of up to 64.
FitOptions options_for(Index n, Index samples) {
  FitOptions options;
  options.batch_size = std::min<Index>(64, n);
  options.epochs = std::max<Index>(1, samples / n);
  return options;
}

// A softmax classifier (one Dense layer on logits) trained on features of the labelled images.
Softmax train_softmax(const Matrix<float>& features, const Labels& labels, Index samples, Rng& rng) {
  Softmax classifier(Sequential{Dense<float>(features.rows(), 10)}, rng);
  Adam<float> adam(1e-3);
  fit(classifier, adam, features, labels, options_for(features.cols(), samples), rng);
  return classifier;
}

struct Row {
  Index n;
  double pixels, pca, frozen, fine_tuned, joint;
};

// A space the linear classifiers read: training and test features. Codes are standardized
// over the training images (0.880 against 0.876 with 1,000 labels); pixels and PCA codes are
// better as they are (standardized: 0.865 against 0.879, and 0.856 against 0.859).
struct Features {
  Matrix<float> train, test;
  Features(const Matrix<float>& train_raw, const Matrix<float>& test_raw, bool standardized) {
    if (!standardized) {
      train = train_raw;
      test = test_raw;
      return;
    }
    const Standardizer standardize(train_raw);
    train = standardize(train_raw);
    test = standardize(test_raw);
  }
};

// Adam at `rate`, annealed over the epochs by a cosine.
template <class Model>
History train_annealed(Model& model, const Matrix<float>& X, const Labels& labels,
                       FitOptions options, double rate, Rng& rng) {
  Adam<float> adam(rate);
  return fit(model, adam, X, labels, options, rng, CosineAnnealing(options.epochs, rate / 100));
}

Row classify(const Settings& settings, const io::Mnist<float>& mnist, Codec& autoencoder,
             const Features (&spaces)[3], const std::vector<Index>& order, Index n, Rng& rng) {
  const Labels& test_labels = mnist.test.labels;
  const auto labelled = [&](const Matrix<float>& all) {
    Matrix<float> chosen(all.rows(), n);
    for (Index j = 0; j < n; ++j) chosen.col(j) = all.col(order[static_cast<std::size_t>(j)]);
    return chosen;
  };
  Labels labels(n);
  for (Index j = 0; j < n; ++j) labels(j) = mnist.train.labels(order[static_cast<std::size_t>(j)]);
  const Matrix<float> images = labelled(mnist.train.images);
  Row row{n, 0, 0, 0, 0, 0};

  const auto linear = [&](const Features& space) {
    return accuracy(train_softmax(labelled(space.train), labels, settings.samples, rng).predict(space.test),
                    test_labels);
  };
  row.pixels = linear(spaces[0]);
  row.pca = linear(spaces[1]);
  row.frozen = linear(spaces[2]);

  // The encoder under a head trained on its raw (unstandardized) codes, then all of it
  // fine-tuned on the labelled images.
  Softmax head = train_softmax(autoencoder.encode(images), labels, settings.samples, rng);
  auto tuned = with_head(autoencoder, head);
  train_annealed(tuned, images, labels, options_for(n, settings.samples), settings.rate, rng);
  row.fine_tuned = accuracy(tuned.predict(mnist.test.images), test_labels);

  // Joint: every training image, the n labelled ones among them repeated so that a batch of 64
  // holds about 16 of them, starting from the autoencoder and the frozen head.
  const Index copies = n < 60000 ? std::max<Index>(1, 60000 / (3 * n)) : 0;
  Matrix<float> all(784, 60000 + copies * n);
  Labels all_labels = Labels::Constant(all.cols(), unlabelled);
  all.leftCols(60000) = mnist.train.images;
  for (Index j = 0; j < n; ++j) all_labels(order[static_cast<std::size_t>(j)]) = labels(j);
  for (Index copy = 0; copy < copies; ++copy) {
    all.middleCols(60000 + copy * n, n) = images;
    all_labels.segment(60000 + copy * n, n) = labels;
  }
  SupervisedAutoencoder joint(autoencoder.encoder(), autoencoder.decoder(), head.network(), rng,
                              BinaryCrossEntropy{}, SupervisedOptions{settings.alpha, 0.0});
  // Its arena holds encoder, decoder and head one after another, as the two models do theirs.
  if (joint.parameter_count() != autoencoder.parameter_count() + head.parameter_count())
    throw std::logic_error("the joint model's parameters are not the autoencoder's and the head's");
  joint.parameters() << autoencoder.parameters(), head.parameters();
  FitOptions options;
  options.batch_size = 64;
  options.epochs = std::max<Index>(1, settings.samples / all.cols());
  train_annealed(joint, all, all_labels, options, settings.rate, rng);
  row.joint = accuracy(joint.predict(mnist.test.images), test_labels);
  return row;
}

int run(const Settings& settings) {
  if (settings.threads > 0) set_threads(settings.threads);
  const FlushDenormals flush;
  const examples::Stopwatch stopwatch;
  const io::Mnist<float> mnist = examples::load_mnist_or_explain();
  Rng rng(settings.seed);
  const Index h = settings.hidden, c = settings.code;
  Codec autoencoder(Sequential{Dense<float, ReLU>(784, h), Dense<float>(h, c)},
                    Sequential{Dense<float, ReLU>(c, h), Dense<float, Sigmoid>(h, 784)}, rng,
                    BinaryCrossEntropy{});
  io::load(autoencoder, settings.model);
  Pca<float> pca(c);
  pca.fit(mnist.train.images);  // unsupervised: every training image may be used
  examples::Metrics metrics;
  metrics.add("model", settings.model);
  metrics.add("code", static_cast<double>(c));

  // Which training images have their label known: the first n of one seeded order.
  Vector<double> keys(60000);
  fill_uniform(keys, 0.0, 1.0, rng);
  std::vector<Index> order(60000);
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return keys(a) < keys(b); });

  const Matrix<float> pca_train = pca.transform(mnist.train.images), pca_test = pca.transform(mnist.test.images);
  const Matrix<float> code_train = autoencoder.encode(mnist.train.images);
  const Matrix<float> code_test = autoencoder.encode(mnist.test.images);
  const Features spaces[] = {{mnist.train.images, mnist.test.images, false},
                             {pca_train, pca_test, false},
                             {code_train, code_test, true}};

  std::printf("test accuracy of a softmax classifier with n labelled training images\n");
  std::printf("%7s %8s %8s %13s %11s %8s\n", "n", "pixels", "PCA", "frozen code", "fine-tuned",
              "joint");
  for (const Index n : settings.labels) {
    const Row row = classify(settings, mnist, autoencoder, spaces, order, n, rng);
    std::printf("%7lld %8.4f %8.4f %13.4f %11.4f %8.4f\n", static_cast<long long>(n), row.pixels,
                row.pca, row.frozen, row.fine_tuned, row.joint);
    std::fflush(stdout);
    const std::string prefix = "accuracy_" + std::to_string(n) + "_";
    metrics.add(prefix + "pixels", row.pixels);
    metrics.add(prefix + "pca", row.pca);
    metrics.add(prefix + "frozen", row.frozen);
    metrics.add(prefix + "fine_tuned", row.fine_tuned);
    metrics.add(prefix + "joint", row.joint);
  }

  // The same spaces as embeddings, unstandardized: distances as the models give them.
  struct Space {
    std::string key, name;
    const Matrix<float>& train;
    const Matrix<float>& test;
  };
  const Space embeddings[] = {
      {"pixels", "pixels (784)", mnist.train.images, mnist.test.images},
      {"pca", "PCA (" + std::to_string(c) + ")", pca_train, pca_test},
      {"autoencoder", "autoencoder (" + std::to_string(c) + ")", code_train, code_test}};
  const Index k = settings.neighbours;
  std::printf("\nembeddings of the 10,000 test images\n");
  std::printf("%-18s %15s %12s %14s\n", "space", "k-means purity", "k-means ARI",
              ("precision@" + std::to_string(k)).c_str());
  for (const Space& space : embeddings) {
    KMeans<float> kmeans(KMeansOptions{10, 100, 4, settings.seed});
    const Labels clusters = kmeans.fit(space.test);
    const auto found = nearest_neighbours<float>(space.train, space.test, k);
    const double purity_value = purity(clusters, mnist.test.labels);
    const double ari = adjusted_rand_index(clusters, mnist.test.labels);
    const double precision = precision_at_k(found, mnist.train.labels, mnist.test.labels);
    std::printf("%-18s %15.3f %12.3f %14.3f\n", space.name.c_str(), purity_value, ari, precision);
    metrics.add("purity_" + space.key, purity_value);
    metrics.add("ari_" + space.key, ari);
    metrics.add("precision_at_k_" + space.key, precision);
  }

  // Ten test images, one of each digit, each followed by its k nearest training images in
  // the autoencoder's code space.
  const std::filesystem::path out(settings.out);
  std::filesystem::create_directories(out);
  const Space& codes = embeddings[2];
  Matrix<float> picture(784, 10 * (k + 1));
  for (int digit = 0; digit < 10; ++digit) {
    Index query = 0;
    while (mnist.test.labels(query) != digit) ++query;
    const auto found = nearest_neighbours<float>(codes.train, codes.test.col(query), k);
    picture.col(digit * (k + 1)) = mnist.test.images.col(query);
    for (Index i = 0; i < k; ++i) picture.col(digit * (k + 1) + 1 + i) = mnist.train.images.col(found(i, 0));
  }
  io::GridOptions grid;
  grid.columns = k + 1;
  io::write_image_grid(out / "neighbours.png", picture, 28, 28, grid);
  metrics.add("seconds", stopwatch.seconds());
  metrics.write(out / "metrics.json");
  std::printf("\n%.0f s; wrote %s and %s\n", stopwatch.seconds(), (out / "neighbours.png").string().c_str(),
              (out / "metrics.json").string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"MNIST codes as features for a classifier with few labels, and as embeddings."};
  app.add_option("--model", settings.model, "Model file written by mnist_autoencoder --model plain")->capture_default_str();
  app.add_option("--code", settings.code, "Its code size")->check(CLI::Range(1, 784))->capture_default_str();
  app.add_option("--hidden", settings.hidden, "Its hidden layer size")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--labels", settings.labels, "Numbers of labelled training images")
      ->delimiter(',')->check(CLI::Range(10, 60000))->capture_default_str();
  app.add_option("--samples", settings.samples, "Training samples each classifier sees")->check(CLI::Range(1, 100000000))->capture_default_str();
  app.add_option("--alpha", settings.alpha, "Weight of reconstruction in the joint objective")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--lr", settings.rate, "Adam's rate for fine-tuning and joint training")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--neighbours", settings.neighbours, "k of precision@k")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--seed", settings.seed, "Seed of the labelled subset, the classifiers and k-means")->capture_default_str();
  app.add_option("--threads", settings.threads, "Eigen threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--out", settings.out, "Output folder")->capture_default_str();
  return examples::parse_and_run(app, argc, argv, "mnist_features", [&] { return run(settings); });
}
