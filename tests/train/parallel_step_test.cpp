#include <latent/activations.hpp>
#include <latent/core/random.hpp>
#include <latent/core/threads.hpp>
#include <latent/detail/parallel.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/layers/tied_dense.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/variational.hpp>
#include <latent/optim/adam.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include <catch2/catch.hpp>

#include "support/data.hpp"

// A training step splits its products, element-wise passes, loss and optimizer update over the
// threads of set_threads. The split changes which thread computes an entry, never how: on
// Eigen's products the parameters after a few steps on two threads, or three, are those on one
// thread to the last bit. OpenBLAS's kernels depend on a product's shape, so with BLAS a panel
// of a product may round differently from the whole: there the runs agree to a few roundings,
// and a given number of threads gives the same bits on every run.

namespace {

using latent::Dense;
using latent::Index;
using latent::Matrix;
using latent::Sequential;
using latent::Sigmoid;
using latent::Vector;

// 784-64-784 at batch 100: every product, pass and the update are large enough to split, and
// the batch is no multiple of a panel's alignment (a short last panel).
constexpr Index pixels = 784, code = 64, batch = 100;

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  const std::size_t bytes = sizeof(typename A::Scalar) * static_cast<std::size_t>(a.size());
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), bytes) == 0;
}

struct Trained {
  Vector<double> first_gradient;  // of the first step, in double to compare
  Vector<double> parameters;      // after the last step
  double objective;               // of the last step
};

// Three Adam steps of a copy of `model` on X, with `threads` threads.
template <class Model, class S = typename Model::Scalar>
Trained train_on(int threads, Model model, const Matrix<S>& X) {
  const int saved = latent::threads();
  latent::set_threads(threads);
  latent::Adam<S> adam(1e-3);
  latent::Rng rng(11);
  Trained trained;
  for (int step = 0; step < 3; ++step) {
    trained.objective = static_cast<double>(model.train_batch(X, rng));
    if (step == 0) trained.first_gradient = model.gradients().template cast<double>();
    adam.step(model.parameters(), model.gradients());
  }
  trained.parameters = model.parameters().template cast<double>();
  latent::set_threads(saved);
  return trained;
}

template <class Model, class S = typename Model::Scalar>
void check_same_on_one_and_more_threads(const Model& model, const Matrix<S>& X) {
  const Trained one = train_on(1, model, X);
  CHECK_FALSE(same_bits(one.parameters, model.parameters().template cast<double>().eval()));
  for (const int threads : {2, 3}) {
    INFO(threads << " threads");
    const Trained more = train_on(threads, model, X);
#if defined(EIGEN_USE_BLAS)
    // A few roundings of S in the gradient, on the scale of its largest entry.
    const double eps = std::numeric_limits<S>::epsilon();
    CHECK((one.first_gradient - more.first_gradient).cwiseAbs().maxCoeff() <=
          64 * eps * one.first_gradient.cwiseAbs().maxCoeff());
    CHECK(std::abs(one.objective - more.objective) <= 64 * eps * std::abs(one.objective));
    CHECK(same_bits(more.parameters, train_on(threads, model, X).parameters));
#else
    CHECK(same_bits(one.first_gradient, more.first_gradient));
    CHECK(same_bits(one.parameters, more.parameters));
    CHECK(one.objective == more.objective);
#endif
  }
}

}  // namespace

TEST_CASE("Two threads split every part of this test's steps", "[train][threads]") {
#if defined(_OPENMP)
  const int saved = latent::threads();
  latent::set_threads(2);
  CHECK(latent::detail::parallel_parts(pixels * batch, Index(1) << 13) == 2);  // activations
  CHECK(latent::detail::parallel_parts(pixels * code + code, Index(1) << 14) == 2);  // update
  latent::set_threads(saved);
#else
  WARN("built without OpenMP: every pass runs on the calling thread");
#endif
}

TEMPLATE_TEST_CASE("A plain autoencoder's steps are the same on one thread and on more",
                   "[train][threads]", float, double) {
  latent::Rng rng(5);
  const Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(pixels, batch, 3, 0.0, 1.0);
  SECTION("mean squared error") {
    latent::Autoencoder model(Sequential{Dense<TestType, Sigmoid>(pixels, code)},
                              Sequential{Dense<TestType, Sigmoid>(code, pixels)}, rng);
    check_same_on_one_and_more_threads(model, X);
  }
  SECTION("binary cross-entropy, ReLU code, weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = 1e-3;
    latent::Autoencoder model(Sequential{Dense<TestType, latent::ReLU>(pixels, code)},
                              Sequential{Dense<TestType, Sigmoid>(code, pixels)}, rng,
                              latent::BinaryCrossEntropy{}, options);
    check_same_on_one_and_more_threads(model, X);
  }
}

TEST_CASE("A tied autoencoder's steps are the same on one thread and on more", "[train][threads]") {
  latent::Rng rng(6);
  const Matrix<float> X = latent::testing::uniform_matrix<float>(pixels, batch, 4, 0.0, 1.0);
  Sequential encoder{Dense<float, latent::Tanh>(pixels, code)};
  latent::Autoencoder model(encoder, latent::tied_decoder<Sigmoid>(encoder), rng,
                            latent::BinaryCrossEntropy{});
  check_same_on_one_and_more_threads(model, X);
}

TEST_CASE("A VAE's steps are the same on one thread and on more", "[train][threads]") {
  latent::Rng rng(7);
  const Matrix<double> X = latent::testing::uniform_matrix<double>(pixels, batch, 5, 0.0, 1.0);
  latent::VariationalAutoencoder model(Sequential{Dense<double, latent::ReLU>(pixels, code)}, 8,
                                       Sequential{Dense<double, latent::ReLU>(8, code),
                                                  Dense<double, Sigmoid>(code, pixels)},
                                       rng);
  check_same_on_one_and_more_threads(model, X);
}
