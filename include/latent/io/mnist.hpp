#ifndef LATENT_IO_MNIST_HPP
#define LATENT_IO_MNIST_HPP

// Needs zlib (link ZLIB::ZLIB).

#include <cstdlib>
#include <filesystem>
#include <string>

#include "latent/core/error.hpp"
#include "latent/core/types.hpp"
#include "latent/io/idx.hpp"

namespace latent::io {

/// One half of MNIST: 784 x n images in [0, 1] (28 x 28, row-major, one per column) and their
/// digits 0..9.
template <class S>
struct MnistSplit {
  Matrix<S> images;
  Labels labels;
};

/// MNIST as LeCun et al. distribute it: 60,000 training and 10,000 test images.
template <class S>
struct Mnist {
  MnistSplit<S> train;
  MnistSplit<S> test;
};

/// Where MNIST is looked for: $MNIST_DIR when set, else data/mnist under the working directory.
inline std::filesystem::path mnist_directory() {
  const char* dir = std::getenv("MNIST_DIR");
  return dir && *dir ? std::filesystem::path(dir) : std::filesystem::path("data") / "mnist";
}

namespace detail {

// The original name with .gz, or the same file already decompressed.
inline std::filesystem::path mnist_file(const std::filesystem::path& dir, const std::string& name) {
  const std::filesystem::path gz = dir / (name + ".gz");
  if (std::filesystem::exists(gz) || !std::filesystem::exists(dir / name)) return gz;
  return dir / name;
}

template <class S>
MnistSplit<S> read_mnist_split(const std::filesystem::path& dir, const std::string& prefix,
                               Index expected) {
  const std::filesystem::path images_path = mnist_file(dir, prefix + "-images-idx3-ubyte");
  const std::filesystem::path labels_path = mnist_file(dir, prefix + "-labels-idx1-ubyte");
  for (const auto& path : {images_path, labels_path})
    if (!std::filesystem::exists(path))
      throw Error("latent::io::load_mnist: '" + path.string() +
                  "' not found; MNIST's four files go in that folder (scripts/get-mnist.sh "
                  "DIR fetches them; MNIST_DIR names the folder the examples read)");
  MnistSplit<S> split{read_idx_images<S>(images_path), read_idx_labels(labels_path)};
  const auto where = [&](const std::filesystem::path& path) {
    return "latent::io::load_mnist: '" + path.string() + "' ";
  };
  if (split.images.rows() != 784)  // read_idx_images checked for n x height x width
    throw Error(where(images_path) + "holds images of " + std::to_string(split.images.rows()) +
                " pixels, MNIST's have 28 x 28 = 784");
  if (split.images.cols() != expected)
    throw Error(where(images_path) + "holds " + std::to_string(split.images.cols()) +
                " images, MNIST's " + prefix + " set has " + std::to_string(expected));
  if (split.labels.size() != expected)
    throw Error(where(labels_path) + "holds " + std::to_string(split.labels.size()) +
                " labels, MNIST's " + prefix + " set has " + std::to_string(expected));
  if (split.labels.maxCoeff() > 9)
    throw Error(where(labels_path) + "holds a label above 9");
  return split;
}

}  // namespace detail

/// Loads MNIST from `dir` (the four IDX files under their original names, gzip-compressed or
/// not). Throws latent::Error naming the file when one is missing, corrupt or not MNIST's shape.
template <class S = float>
Mnist<S> load_mnist(const std::filesystem::path& dir = mnist_directory()) {
  return {detail::read_mnist_split<S>(dir, "train", 60000),
          detail::read_mnist_split<S>(dir, "t10k", 10000)};
}

}  // namespace latent::io

#endif  // LATENT_IO_MNIST_HPP
