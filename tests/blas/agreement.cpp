// The BLAS build agrees with Eigen's own products: the same small computation, compiled twice
// by tests/blas/CMakeLists.txt, once with latent::latent as configured (EIGEN_USE_BLAS: OpenBLAS's
// sgemm, dgemm, sgemv, ...) and once on plain Eigen. Two executables, because one program must
// not mix the two (ODR: Eigen's product templates would differ between translation units).
//
//   agreement --write <file>     computes the results and writes them (the Eigen build)
//   agreement --compare <file>   computes them and compares with the file (the BLAS build)
//
// On seeded data in [0, 1], one thread in each build:
//   - a 784-64-784 float autoencoder (sigmoid, sigmoid, MSE, batch 64): the loss of each of 5
//     Adam (1e-3) steps, then its parameters and its reconstruction;
//   - a 784-128-32-10 network (tanh, ReLU, sigmoid, MSE, batch 32) in float and in double: its
//     outputs, its loss and the gradient of the loss.
// A block agrees when max |a - b| <= tolerance * max |a|: a whole matrix's relative error, as an
// element that is the difference of larger terms has no relative accuracy of its own.
#include <latent/latent.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace latent;

#if defined(EIGEN_USE_BLAS)
const std::string build = "EIGEN_USE_BLAS";
#else
const std::string build = "Eigen";
#endif

// The two builds sum the same products in different orders (OpenBLAS's kernels block and
// vectorise them otherwise than Eigen's): a few roundings per product, carried through 5 Adam
// steps. Observed on an AVX2 machine (g++ 12, OpenBLAS 0.3.21): at most 3.1e-6 in float (the
// parameters after the steps; 3e-7 for one pass), 5.4e-16 in double. The tolerances leave room
// for other kernels; a wrong product is off by far more.
constexpr double float_tolerance = 1e-4;
constexpr double double_tolerance = 1e-12;

struct Block {
  std::string name;
  double tolerance;
  std::vector<double> values;  // column-major
};

template <class Derived>
void add(std::vector<Block>& blocks, std::string name, double tolerance,
         const Eigen::DenseBase<Derived>& m) {
  Block block{std::move(name), tolerance, {}};
  for (Index j = 0; j < m.cols(); ++j)
    for (Index i = 0; i < m.rows(); ++i) block.values.push_back(static_cast<double>(m(i, j)));
  blocks.push_back(std::move(block));
}

void autoencoder(std::vector<Block>& blocks) {
  Rng rng(11);
  Autoencoder model(Sequential{Dense<float, Sigmoid>(784, 64)},
                    Sequential{Dense<float, Sigmoid>(64, 784)}, rng);
  Matrix<float> X(784, 64);
  fill_uniform(X, 0.0, 1.0, rng);
  Adam<float> adam(1e-3);
  Vector<float> losses(5);
  for (Index step = 0; step < losses.size(); ++step) {
    losses(step) = model.train_batch(X, rng);
    adam.step(model.parameters(), model.gradients());
  }
  add(blocks, "autoencoder.losses", float_tolerance, losses);
  add(blocks, "autoencoder.parameters", float_tolerance, model.parameters());
  add(blocks, "autoencoder.reconstruction", float_tolerance, model.reconstruct(X));
}

template <class S>
void network(std::vector<Block>& blocks, const std::string& name, double tolerance) {
  Rng rng(13);
  FeedForward<Sequential<Dense<S, Tanh>, Dense<S, ReLU>, Dense<S, Sigmoid>>> model(
      Sequential{Dense<S, Tanh>(784, 128), Dense<S, ReLU>(128, 32), Dense<S, Sigmoid>(32, 10)},
      rng);
  Matrix<S> X(784, 32), T(10, 32);
  fill_uniform(X, 0.0, 1.0, rng);
  fill_uniform(T, 0.0, 1.0, rng);
  add(blocks, name + ".outputs", tolerance, model.predict(X));
  const S loss = model.train_batch(X, T, rng);
  add(blocks, name + ".loss", tolerance, Vector<S>::Constant(1, loss));
  add(blocks, name + ".gradients", tolerance, model.gradients());
}

int write(const std::string& path, const std::vector<Block>& blocks) {
  std::ofstream out(path);
  out << build << '\n' << std::setprecision(17);  // 17 digits: every double read back exactly
  for (const Block& block : blocks) {
    out << block.name << ' ' << block.values.size() << '\n';
    for (double value : block.values) out << value << '\n';
  }
  out.close();
  if (!out) {
    std::fprintf(stderr, "agreement: cannot write %s\n", path.c_str());
    return 1;
  }
  return 0;
}

int compare(const std::string& path, const std::vector<Block>& blocks) {
  std::ifstream in(path);
  std::string theirs;
  if (!(in >> theirs) || theirs == build) {
    std::fprintf(stderr, "agreement: %s is not the results of the other build (it says '%s')\n",
                 path.c_str(), theirs.c_str());
    return 1;
  }
  std::printf("%s against %s (%s)\n", build.c_str(), theirs.c_str(), path.c_str());
  std::printf("%-28s %7s %11s %11s %11s %11s\n", "block", "values", "max |a-b|", "max |a|",
              "relative", "tolerance");
  bool agree = true;
  for (const Block& block : blocks) {
    std::string name;
    std::size_t count = 0;
    if (!(in >> name >> count) || name != block.name || count != block.values.size()) {
      std::fprintf(stderr, "agreement: expected block %s of %zu values in %s\n",
                   block.name.c_str(), block.values.size(), path.c_str());
      return 1;
    }
    double difference = 0.0, scale = 0.0;
    bool finite = true;
    for (double mine : block.values) {
      std::string token;  // strtod, not >>: libstdc++'s >> refuses subnormal numbers
      if (!(in >> token)) {
        std::fprintf(stderr, "agreement: %s ends inside block %s\n", path.c_str(), name.c_str());
        return 1;
      }
      const double other = std::strtod(token.c_str(), nullptr);
      finite = finite && std::isfinite(mine) && std::isfinite(other);
      difference = std::max(difference, std::abs(mine - other));
      scale = std::max(scale, std::abs(other));
    }
    const double relative = scale > 0.0 ? difference / scale : difference;
    const bool ok = finite && relative <= block.tolerance;
    std::printf("%-28s %7zu %11.3g %11.3g %11.3g %11.3g%s\n", name.c_str(), count, difference,
                scale, relative, block.tolerance, ok ? "" : "  DIFFERENT");
    agree = agree && ok;
  }
  return agree ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "--write" && mode != "--compare") {
    std::fprintf(stderr, "usage: %s --write <file> | --compare <file>\n", argv[0]);
    return 2;
  }
  set_threads(1);  // one order of summation per build, whatever the environment says
  std::vector<Block> blocks;
  autoencoder(blocks);
  network<float>(blocks, "network.float", float_tolerance);
  network<double>(blocks, "network.double", double_tolerance);
  return mode == "--write" ? write(argv[2], blocks) : compare(argv[2], blocks);
}
