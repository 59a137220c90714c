#if LATENT_HAVE_ZLIB

#include <latent/io/checkpoint.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <latent/activations.hpp>
#include <latent/core/error.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/corruption.hpp>
#include <latent/models/likelihood.hpp>
#include <latent/models/variational.hpp>
#include <latent/optim/adam.hpp>
#include <latent/optim/rmsprop.hpp>
#include <latent/optim/sgd.hpp>
#include <latent/train/callbacks.hpp>
#include <latent/train/fit.hpp>

#include "support/data.hpp"
#include "support/temp_dir.hpp"

// Checkpoints: a run interrupted at any epoch and resumed (with the model, optimizer and
// engine rebuilt from other seeds) ends bit for bit where an uninterrupted run ends, for a
// denoising autoencoder (the engine also draws the noise) and a VAE (it draws the codes), in
// float and double; a finished run resumes to its history; and a checkpoint of another run
// (architecture, optimizer, data, batch size, scalar type) or a damaged one is refused with
// the run left exactly as it was.

namespace {

using Catch::Matchers::Contains;
using latent::Dense;
using latent::Error;
using latent::FitOptions;
using latent::History;
using latent::Index;
using latent::Sequential;
using latent::io::Checkpoint;
using Bytes = std::vector<unsigned char>;
using Path = std::filesystem::path;

template <class S>
using Matrix = latent::Matrix<S>;
template <class S>
using Vector = latent::Vector<S>;

template <class S>
auto denoising(std::uint64_t seed, Index hidden = 4) {
  latent::Rng rng(seed);
  return latent::Autoencoder(Sequential{Dense<S, latent::Tanh>(8, hidden)},
                             Sequential{Dense<S, latent::Sigmoid>(hidden, 8)}, rng,
                             latent::BinaryCrossEntropy{}, latent::MaskingNoise(0.25));
}

template <class S>
auto variational(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::VariationalAutoencoder(Sequential{Dense<S, latent::ReLU>(8, 6)}, 2,
                                        Sequential{Dense<S, latent::Sigmoid>(2, 8)}, rng,
                                        latent::Bernoulli{});
}

template <class S>
Matrix<S> data(Index n = 37, std::uint64_t seed = 5) {
  return latent::testing::uniform_matrix<S>(8, n, seed, 0.0, 1.0);
}

FitOptions options(Index epochs) {
  FitOptions options;
  options.epochs = epochs;
  options.batch_size = 8;  // 37 samples: a short last batch
  return options;
}

/// Throws at the start of epoch `at`, as a crash there would end the process.
struct CrashAt {
  Index at;
  void on_epoch_begin(const latent::FitProgress& progress) const {
    if (progress.epoch == at) throw std::runtime_error("crash");
  }
};

Bytes read_all(const Path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_all(const Path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

/// The checkpoint of a denoising autoencoder trained on X for `epochs` epochs.
void write_checkpoint(const Path& path, const Matrix<float>& X, Index epochs) {
  auto model = denoising<float>(1);
  latent::Adam<float> adam(0.01);
  latent::Rng rng(7);
  Checkpoint checkpoint(path);
  latent::fit(model, adam, X, options(epochs), rng, checkpoint);
}

void require_same_history(const History& a, const History& b) {
  REQUIRE(a.epochs.size() == b.epochs.size());
  CHECK(a.stopped_early == b.stopped_early);
  for (std::size_t i = 0; i < a.epochs.size(); ++i) {
    INFO("epoch " << i);
    CHECK(a.epochs[i].epoch == b.epochs[i].epoch);
    CHECK(a.epochs[i].train_loss == b.epochs[i].train_loss);
    CHECK(a.epochs[i].learning_rate == b.epochs[i].learning_rate);
  }
}

/// Trains `make(seed)` for `epochs` epochs three ways: in one go; interrupted at every epoch
/// in turn, each time resumed from the checkpoint with a model, optimizer and engine built
/// from other seeds. All end bit for bit alike.
template <class Make, class MakeOptimizer>
void check_resume(Make make, MakeOptimizer make_optimizer, Index epochs) {
  using Model = decltype(make(0));
  using S = typename Model::Scalar;
  const Matrix<S> X = data<S>();
  latent::testing::TempDir dir;

  Model straight = make(1);
  auto optimizer = make_optimizer();
  latent::Rng rng(7);
  const History expected = latent::fit(straight, optimizer, X, options(epochs), rng);

  for (Index crash = 1; crash < epochs; ++crash) {
    INFO("interrupted before epoch " << crash);
    Checkpoint checkpoint(dir / ("run-" + std::to_string(crash) + ".ckpt"));
    {
      Model model = make(1);
      auto first_optimizer = make_optimizer();
      latent::Rng first_rng(7);
      CHECK_THROWS_WITH(latent::fit(model, first_optimizer, X, options(epochs), first_rng,
                                    checkpoint, CrashAt{crash}),
                        "crash");
    }
    Model model = make(100 + static_cast<std::uint64_t>(crash));
    auto resumed_optimizer = make_optimizer();
    latent::Rng resumed_rng(1000);
    const History history = latent::fit(model, resumed_optimizer, X, options(epochs), resumed_rng, checkpoint);
    CHECK(model.parameters() == straight.parameters());
    require_same_history(history, expected);
    CHECK(resumed_rng == rng);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("A resumed run ends bit for bit where an uninterrupted run ends",
                   "[io][checkpoint]", float, double) {
  using S = TestType;
  SECTION("a denoising autoencoder with Adam") {
    check_resume([](std::uint64_t seed) { return denoising<S>(seed); },
                 [] { return latent::Adam<S>(0.01); }, 5);
  }
  SECTION("a VAE with Nesterov momentum") {
    check_resume([](std::uint64_t seed) { return variational<S>(seed); },
                 [] { return latent::Sgd<S>(latent::SgdOptions{0.05, 0.9, true}); }, 4);
  }
}

TEST_CASE("A checkpoint is saved every few epochs and after the last", "[io][checkpoint]") {
  const Matrix<float> X = data<float>();
  latent::testing::TempDir dir;
  const Path path = dir / "run.ckpt";
  Checkpoint checkpoint(path, 2);
  auto model = denoising<float>(1);
  latent::Adam<float> adam(0.01);
  latent::Rng rng(7);
  CHECK_THROWS(latent::fit(model, adam, X, options(5), rng, checkpoint, CrashAt{3}));
  // Saved after the second epoch, not the third: the optimizer is back at ten steps.
  auto resumed = denoising<float>(2);
  latent::Adam<float> resumed_adam(0.01);
  latent::Rng resumed_rng(8);
  latent::fit(resumed, resumed_adam, X, options(2), resumed_rng, checkpoint);
  CHECK(resumed_adam.steps() == 2 * 5);  // two epochs of five batches
  CHECK_THROWS_AS(Checkpoint(path, 0), std::invalid_argument);
}

TEST_CASE("A finished run resumes to its history, and goes on when given more epochs",
          "[io][checkpoint]") {
  const Matrix<double> X = data<double>();
  latent::testing::TempDir dir;
  Checkpoint checkpoint(dir / "run.ckpt");
  auto model = denoising<double>(1);
  latent::Adam<double> adam(0.01);
  latent::Rng rng(7);
  const History first = latent::fit(model, adam, X, options(3), rng, checkpoint);

  SECTION("the same call trains no further") {
    auto again = denoising<double>(2);
    latent::Adam<double> again_adam(0.01);
    latent::Rng again_rng(8);
    const History history = latent::fit(again, again_adam, X, options(3), again_rng, checkpoint);
    require_same_history(history, first);
    CHECK(again.parameters() == model.parameters());
    CHECK(again_adam.steps() == adam.steps());
  }
  SECTION("more epochs continue the run as if it had been asked for them at first") {
    auto longer = denoising<double>(2);
    latent::Adam<double> longer_adam(0.01);
    latent::Rng longer_rng(8);
    const History history = latent::fit(longer, longer_adam, X, options(5), longer_rng, checkpoint);

    auto straight = denoising<double>(1);
    latent::Adam<double> straight_adam(0.01);
    latent::Rng straight_rng(7);
    const History expected = latent::fit(straight, straight_adam, X, options(5), straight_rng);
    CHECK(longer.parameters() == straight.parameters());
    require_same_history(history, expected);
  }
}

TEST_CASE("A run stopped early by a callback stays stopped on resume", "[io][checkpoint]") {
  const Matrix<float> X = data<float>();
  latent::testing::TempDir dir;
  Checkpoint checkpoint(dir / "run.ckpt");
  struct StopAfterTwo {
    bool on_epoch_end(const latent::EpochRecord& record) const { return record.epoch == 1; }
  };
  auto model = denoising<float>(1);
  latent::Adam<float> adam(0.01);
  latent::Rng rng(7);
  const History first = latent::fit(model, adam, X, options(6), rng, checkpoint, StopAfterTwo{});
  REQUIRE(first.stopped_early);
  auto again = denoising<float>(2);
  latent::Adam<float> again_adam(0.01);
  latent::Rng again_rng(8);
  const History history = latent::fit(again, again_adam, X, options(6), again_rng, checkpoint);
  require_same_history(history, first);
  CHECK(again.parameters() == model.parameters());
}

TEST_CASE("resume refuses a checkpoint of another run, naming the difference, and changes nothing",
          "[io][checkpoint][errors]") {
  const Matrix<float> X = data<float>();
  latent::testing::TempDir dir;
  const Path path = dir / "run.ckpt";
  write_checkpoint(path, X, 2);

  // Each case runs fit with the checkpoint on a fresh run and expects a refusal before the
  // first step: the model, the optimizer and the engine stay as they were built.
  const auto refused = [&](auto model, auto optimizer, const auto& inputs, FitOptions fit_options,
                           const std::string& reason) {
    INFO(reason);
    const auto before = model.parameters();
    latent::Rng rng(9);
    const latent::Rng rng_before = rng;
    Checkpoint checkpoint(path);
    CHECK_THROWS_AS(latent::fit(model, optimizer, inputs, fit_options, rng, checkpoint), Error);
    CHECK_THROWS_WITH(latent::fit(model, optimizer, inputs, fit_options, rng, checkpoint),
                      Contains(path.string()) && Contains(reason));
    CHECK(model.parameters() == before);
    CHECK(optimizer.state().buffers[0].size() == 0);
    CHECK(rng == rng_before);
  };
  refused(denoising<float>(3, 5), latent::Adam<float>(0.01), X, options(4), "Dense<Tanh>(8 -> 5)");
  refused(denoising<float>(3), latent::RmsProp<float>(0.01), X, options(4), "latent::Adam");
  Matrix<float> other = X;
  other(3, 30) += 0.25f;
  refused(denoising<float>(3), latent::Adam<float>(0.01), other, options(4), "CRC-32");
  refused(denoising<float>(3), latent::Adam<float>(0.01), data<float>(36), options(4),
          "number of samples");
  FitOptions bigger = options(4);
  bigger.batch_size = 16;
  refused(denoising<float>(3), latent::Adam<float>(0.01), X, bigger, "batch_size");
  const Matrix<double> X64 = X.cast<double>();
  refused(denoising<double>(3), latent::Adam<double>(0.01), X64, options(4), "float");
}

TEST_CASE("resume refuses a damaged checkpoint: any byte cut off, any bit flipped, a model file",
          "[io][checkpoint][errors]") {
  const Matrix<float> X = data<float>(12);
  latent::testing::TempDir dir;
  const Path path = dir / "run.ckpt";
  write_checkpoint(path, X, 1);
  const Bytes good = read_all(path);
  REQUIRE(good.size() > 100);

  auto model = denoising<float>(3);
  const Vector<float> before = model.parameters();
  latent::Rng rng(9);
  const latent::Rng rng_before = rng;
  const auto check_refused = [&](const Bytes& bytes) {
    write_all(path, bytes);
    latent::Adam<float> adam(0.01);
    Checkpoint checkpoint(path);
    CHECK_THROWS_AS(latent::fit(model, adam, X, options(2), rng, checkpoint), Error);
    CHECK(adam.steps() == 0);
  };
  for (std::size_t size = 0; size < good.size(); ++size) {
    INFO("cut to " << size << " bytes");
    check_refused(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)));
  }
  for (std::size_t at = 0; at < good.size(); at += 7) {
    INFO("bit " << at % 8 << " of byte " << at << " flipped");
    Bytes bytes = good;
    bytes[at] ^= static_cast<unsigned char>(1u << (at % 8));
    check_refused(bytes);
  }
  CHECK(model.parameters() == before);
  CHECK(rng == rng_before);

  latent::io::save(model, path);
  latent::Adam<float> adam(0.01);
  Checkpoint checkpoint(path);
  CHECK_THROWS_WITH(latent::fit(model, adam, X, options(2), rng, checkpoint),
                    Contains("not a latent checkpoint"));
}

TEST_CASE("A checkpoint that cannot be written stops fit with an error naming it",
          "[io][checkpoint][errors]") {
  latent::testing::TempDir dir;
  const Path path = dir / "missing" / "run.ckpt";
  auto model = denoising<float>(1);
  latent::Adam<float> adam(0.01);
  latent::Rng rng(7);
  Checkpoint checkpoint(path);
  CHECK_THROWS_WITH(latent::fit(model, adam, data<float>(), options(2), rng, checkpoint),
                    Contains(path.string()));
}

#endif  // LATENT_HAVE_ZLIB
