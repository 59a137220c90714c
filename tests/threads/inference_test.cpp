#include <latent/activations.hpp>
#include <latent/anomaly.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/layers/tied_dense.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/feed_forward.hpp>
#include <latent/models/likelihood.hpp>
#include <latent/models/supervised.hpp>
#include <latent/models/variational.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include "support/data.hpp"

// Const inference shared between threads: several std::threads run it at once on one const
// model, many times, and each result must equal the single-threaded one bit for bit.
// scripts/tsan.sh runs these tests under ThreadSanitizer, which reports any data race (the
// workspace path, shared the same way, is one).

namespace {

using latent::Dense;
using latent::Index;
using latent::Matrix;
using latent::ReLU;
using latent::Sequential;
using latent::Sigmoid;
using latent::Tanh;

constexpr std::size_t threads = 4;
constexpr int iterations = 25;
// 300 samples: a full 256-column inference block and a ragged one.
constexpr Index samples = 300;
constexpr Index inputs = 40;

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  const std::size_t bytes = sizeof(typename A::Scalar) * static_cast<std::size_t>(a.size());
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), bytes) == 0;
}

// Thread t runs infer(data[t]) `iterations` times while the others do the same, all started
// together; returns how many results differ in any bit from the single-threaded infer(data[t]).
// Catch's assertions are not thread-safe: the threads only count, the caller checks.
template <class F>
int mismatches(const std::vector<Matrix<float>>& data, F infer) {
  using Result = std::decay_t<decltype(infer(data.front()))>;
  std::vector<Result> expected;
  for (const Matrix<float>& x : data) expected.push_back(infer(x));
  std::atomic<int> waiting{static_cast<int>(threads)}, differing{0};
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      waiting.fetch_sub(1);
      while (waiting.load() > 0) std::this_thread::yield();
      for (int i = 0; i < iterations; ++i)
        if (!same_bits(infer(data[t]), expected[t])) differing.fetch_add(1);
    });
  for (std::thread& thread : pool) thread.join();
  return differing.load();
}

// One batch of data in [0, 1] per thread, each different.
std::vector<Matrix<float>> thread_data() {
  std::vector<Matrix<float>> data;
  for (std::uint64_t t = 0; t < threads; ++t)
    data.push_back(latent::testing::uniform_matrix<float>(inputs, samples, 100 + t, 0.0, 1.0));
  return data;
}

}  // namespace

TEST_CASE("Threads share a const Autoencoder's encode, decode and reconstruct", "[threads]") {
  latent::Rng rng(1);
  const latent::Autoencoder model(
      Sequential{Dense<float, ReLU>(inputs, 24), Dense<float, Tanh>(24, 6)},
      Sequential{Dense<float, ReLU>(6, 24), Dense<float, Sigmoid>(24, inputs)}, rng,
      latent::BinaryCrossEntropy{});
  const std::vector<Matrix<float>> data = thread_data();
  CHECK(mismatches(data, [&](const auto& x) { return model.encode(x); }) == 0);
  CHECK(mismatches(data, [&](const auto& x) { return model.reconstruct(x); }) == 0);
  CHECK(mismatches(data, [&](const auto& x) { return model.decode(x.topRows(6)); }) == 0);
  // An anomaly score made from a const model runs its const reconstruct.
  const auto score = latent::reconstruction_error(model);
  CHECK(mismatches(data, score) == 0);
}

TEST_CASE("Threads share a const tied-weight Autoencoder", "[threads][tied]") {
  latent::Rng rng(2);
  const Sequential encoder{Dense<float, ReLU>(inputs, 24), Dense<float, Tanh>(24, 6)};
  const latent::Autoencoder model(encoder, latent::tied_decoder<Sigmoid>(encoder), rng);
  const std::vector<Matrix<float>> data = thread_data();
  CHECK(mismatches(data, [&](const auto& x) { return model.reconstruct(x); }) == 0);
}

TEST_CASE("Threads share a const FeedForward's predict", "[threads][feed_forward]") {
  latent::Rng rng(3);
  using Network = Sequential<Dense<float, Tanh>, Dense<float>>;
  const latent::FeedForward<Network, latent::SoftmaxCrossEntropy> model(
      Network(Dense<float, Tanh>(inputs, 16), Dense<float>(16, 5)), rng);
  const std::vector<Matrix<float>> data = thread_data();
  CHECK(mismatches(data, [&](const auto& x) { return model.predict(x); }) == 0);
}

TEST_CASE("Threads share a const VAE's encode_mean, decode and reconstruct", "[threads][vae]") {
  latent::Rng rng(4);
  const latent::VariationalAutoencoder model(
      Sequential{Dense<float, ReLU>(inputs, 24)}, 4,
      Sequential{Dense<float, ReLU>(4, 24), Dense<float, Sigmoid>(24, inputs)}, rng,
      latent::Bernoulli{});
  const std::vector<Matrix<float>> data = thread_data();
  CHECK(mismatches(data, [&](const auto& x) { return model.encode_mean(x); }) == 0);
  CHECK(mismatches(data, [&](const auto& x) { return model.reconstruct(x); }) == 0);
  CHECK(mismatches(data, [&](const auto& x) { return model.decode(x.topRows(4)); }) == 0);
}

TEST_CASE("Threads share a const SupervisedAutoencoder's encode, reconstruct and predict",
          "[threads][supervised]") {
  latent::Rng rng(5);
  const latent::SupervisedAutoencoder model(
      Sequential{Dense<float, ReLU>(inputs, 16), Dense<float>(16, 6)},
      Sequential{Dense<float, ReLU>(6, 16), Dense<float, Sigmoid>(16, inputs)},
      Sequential{Dense<float>(6, 3)}, rng, latent::BinaryCrossEntropy{});
  const std::vector<Matrix<float>> data = thread_data();
  CHECK(mismatches(data, [&](const auto& x) { return model.encode(x); }) == 0);
  CHECK(mismatches(data, [&](const auto& x) { return model.reconstruct(x); }) == 0);
  CHECK(mismatches(data, [&](const auto& x) { return model.predict(x); }) == 0);
}
