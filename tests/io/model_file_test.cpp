#if LATENT_HAVE_ZLIB

#include <latent/io/model_file.hpp>

#include <zlib.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#if defined(__unix__)
#include <csignal>
#include <sys/resource.h>
#endif

#include <catch2/catch.hpp>

#include <latent/activations.hpp>
#include <latent/core/error.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/layers/tied_dense.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>
#include <latent/models/code_penalty.hpp>
#include <latent/models/contractive.hpp>
#include <latent/models/corruption.hpp>
#include <latent/models/feed_forward.hpp>
#include <latent/models/likelihood.hpp>
#include <latent/models/variational.hpp>

#include "support/data.hpp"
#include "support/temp_dir.hpp"

// Model files: a bit-exact round trip for every model variant in float and double; the layout
// byte by byte; and for every way a file can be wrong (another architecture or scalar type, a
// foreign file, a newer version, a cut at any byte, any single bit flipped, sizes the file
// cannot hold) an exception naming the problem, with the model left bit for bit as it was.
// A failed save leaves the old file and no temporary file behind.

namespace {

using Catch::Matchers::Contains;
using latent::Dense;
using latent::Error;
using latent::Sequential;
using latent::io::architecture;
using Bytes = std::vector<std::uint8_t>;
using Path = std::filesystem::path;

template <class S>
using Vector = latent::Vector<S>;

Bytes read_all(const Path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_raw(const Path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Overwrites one byte in place (cheaper than rewriting the file a thousand times).
void patch(const Path& path, std::size_t at, std::uint8_t byte) {
  std::fstream file(path, std::ios::binary | std::ios::in | std::ios::out);
  file.seekp(static_cast<std::streamoff>(at));
  file.put(static_cast<char>(byte));
  REQUIRE(file.good());
}

std::set<std::string> names_in(const Path& folder) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    names.insert(entry.path().filename().string());
  return names;
}

std::uint32_t u32_at(const Bytes& bytes, std::size_t at) {
  return std::uint32_t{bytes[at]} | std::uint32_t{bytes[at + 1]} << 8 |
         std::uint32_t{bytes[at + 2]} << 16 | std::uint32_t{bytes[at + 3]} << 24;
}
std::uint64_t u64_at(const Bytes& bytes, std::size_t at) {
  return std::uint64_t{u32_at(bytes, at)} | std::uint64_t{u32_at(bytes, at + 4)} << 32;
}
void set_u32(Bytes& bytes, std::size_t at, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) bytes[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
}
void set_u64(Bytes& bytes, std::size_t at, std::uint64_t value) {
  for (std::size_t i = 0; i < 8; ++i) bytes[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// zlib's crc32 of all bytes but the last four.
std::uint32_t crc_of(const Bytes& bytes) {
  return static_cast<std::uint32_t>(
      crc32(0, bytes.data(), static_cast<uInt>(bytes.size() - 4)));
}
// Rewrites the checksum after an edit, so that the check under test is the one that fires.
Bytes resealed(Bytes bytes) {
  set_u32(bytes, bytes.size() - 4, crc_of(bytes));
  return bytes;
}

template <class S>
bool same_bits(const Vector<S>& a, const Vector<S>& b) {
  return a.size() == b.size() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(S) * static_cast<std::size_t>(a.size())) == 0);
}

template <class Model>
std::string load_message(Model& model, const Path& path) {
  try {
    latent::io::load(model, path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no exception";
}

// Loading `path` into model must throw latent::Error and leave the model bit for bit as it was.
// Returns the message.
template <class Model>
std::string refused(Model& model, const Path& path) {
  const auto before = model.parameters();
  const std::string message = load_message(model, path);
  CHECK(message != "no exception");
  CHECK(same_bits(before, model.parameters()));
  return message;
}

// ---- One builder per variant, 4 inputs each; the seed draws the parameters. -------------------

template <class S>
auto plain(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::Autoencoder(
      Sequential{Dense<S, latent::Tanh>(4, 3), Dense<S, latent::Tanh>(3, 2)},
      Sequential{Dense<S, latent::Tanh>(2, 3), Dense<S>(3, 4)}, rng);
}
template <class S>
auto masking_cross_entropy(std::uint64_t seed, double fraction = 0.3) {
  latent::Rng rng(seed);
  return latent::Autoencoder(Sequential{Dense<S, latent::ReLU>(4, 3)},
                             Sequential{Dense<S, latent::Sigmoid>(3, 4)}, rng,
                             latent::BinaryCrossEntropy{}, latent::MaskingNoise(fraction));
}
template <class S>
auto gaussian_logits_decay(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::Autoencoder(Sequential{Dense<S, latent::Softplus>(4, 2)}, Sequential{Dense<S>(2, 4)},
                             rng, latent::SigmoidCrossEntropy{}, latent::GaussianNoise(0.2),
                             latent::AutoencoderOptions{1e-4});
}
template <class S>
auto salt_and_pepper_l1(std::uint64_t seed, double lambda = 1e-3) {
  latent::Rng rng(seed);
  return latent::Autoencoder(
      Sequential{Dense<S, latent::ELU>(4, 3, latent::ELU(0.5))}, Sequential{Dense<S>(3, 4)}, rng,
      latent::SaltAndPepper(0.1, -1.0, 1.0), latent::L1Penalty(lambda));
}
template <class S>
auto kl_sparse(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::Autoencoder(Sequential{Dense<S, latent::Sigmoid>(4, 3)},
                             Sequential{Dense<S, latent::Sigmoid>(3, 4)}, rng,
                             latent::BinaryCrossEntropy{}, latent::KLSparsity(0.1, 2.0));
}
template <class S>
auto contractive(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::Autoencoder(Sequential{Dense<S, latent::Tanh>(4, 2)}, Sequential{Dense<S>(2, 4)},
                             rng, latent::ContractivePenalty(0.05));
}
template <class S>
auto tied(std::uint64_t seed, double slope = 0.2) {
  latent::Rng rng(seed);
  Sequential encoder{Dense<S, latent::LeakyReLU>(4, 3, latent::LeakyReLU(slope)),
                     Dense<S, latent::Tanh>(3, 2)};
  return latent::Autoencoder(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng,
                             latent::BinaryCrossEntropy{});
}
template <class S>
auto classifier(std::uint64_t seed) {
  latent::Rng rng(seed);
  using Network = Sequential<Dense<S, latent::ReLU>, Dense<S>>;
  return latent::FeedForward<Network, latent::SoftmaxCrossEntropy>(
      Network(Dense<S, latent::ReLU>(4, 3), Dense<S>(3, 3)), rng, latent::FeedForwardOptions{1e-3});
}
template <class S>
auto regression(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::FeedForward(Sequential{Dense<S, latent::Tanh>(4, 2)}, rng);
}
template <class S>
auto bernoulli_vae(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::VariationalAutoencoder(Sequential{Dense<S, latent::ReLU>(4, 3)}, 2,
                                        Sequential{Dense<S, latent::Sigmoid>(2, 4)}, rng,
                                        latent::Bernoulli{});
}
template <class S>
auto gaussian_vae(std::uint64_t seed, double beta = 4.0, double variance = 0.5) {
  latent::Rng rng(seed);
  return latent::VariationalAutoencoder(Sequential{Dense<S, latent::Tanh>(4, 3)}, 2,
                                        Sequential{Dense<S>(2, 4)}, rng, latent::Gaussian(variance),
                                        latent::VaeOptions{beta, 1e-4});
}
template <class S>
auto learned_variance_vae(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::VariationalAutoencoder(
      Sequential{Dense<S, latent::Tanh>(4, 3)}, 2,
      Sequential{Dense<S, latent::Tanh>(2, 3), Dense<S>(3, 8)}, rng,
      latent::GaussianLearnedVariance{});
}
template <class S>
auto supervised(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::SupervisedAutoencoder(Sequential{Dense<S, latent::ReLU>(4, 3)},
                                       Sequential{Dense<S, latent::Sigmoid>(3, 4)},
                                       Sequential{Dense<S>(3, 1)}, rng, latent::BinaryLabel{},
                                       latent::BinaryCrossEntropy{},
                                       latent::SupervisedOptions{0.25, 1e-4});
}
// The smallest model: 2 parameters, a file of about 130 bytes.
template <class S>
auto tiny(std::uint64_t seed) {
  latent::Rng rng(seed);
  return latent::FeedForward(Sequential{Dense<S>(1, 1)}, rng);
}

// Saves make(1), loads it into make(2) and compares every bit; the parameters include values
// a decimal or a careless conversion would lose.
template <class Make>
void check_round_trip(Make make, const Path& path) {
  auto saved = make(1);
  auto loaded = make(2);
  using S = typename decltype(saved)::Scalar;
  using Limits = std::numeric_limits<S>;
  REQUIRE(saved.parameters().size() >= 6);
  Vector<S>& values = saved.parameters();
  values(0) = -S(0);
  values(1) = Limits::denorm_min();
  values(2) = Limits::max();
  values(3) = -Limits::infinity();
  values(4) = Limits::quiet_NaN();
  values(5) = Limits::epsilon();
  REQUIRE_FALSE(same_bits(saved.parameters(), loaded.parameters()));

  latent::io::save(saved, path);
  latent::io::load(loaded, path);
  CHECK(same_bits(saved.parameters(), loaded.parameters()));
  CHECK(architecture(loaded) == architecture(saved));
  CHECK(std::filesystem::file_size(path) ==
        32 + architecture(saved).size() + sizeof(S) * static_cast<std::size_t>(saved.parameter_count()));
}

// Saves `saved`, loads into `other` (another architecture): refused, naming both.
template <class Saved, class Other>
void check_other_architecture(const Saved& saved, Other& other, const Path& path) {
  REQUIRE(architecture(saved) != architecture(other));
  latent::io::save(saved, path);
  const std::string message = refused(other, path);
  CHECK_THAT(message, Contains("the file holds '" + architecture(saved) + "' but the model is '" +
                               architecture(other) + "'"));
  CHECK_THAT(message, Contains(path.string()));
}

}  // namespace

TEMPLATE_TEST_CASE("save then load restores every model variant bit for bit", "[io][model_file]",
                   float, double) {
  latent::testing::TempDir dir;
  const Path path = dir / "model.bin";
  SECTION("plain autoencoder") { check_round_trip(plain<TestType>, path); }
  SECTION("denoising, masking noise, cross-entropy") {
    check_round_trip([](std::uint64_t seed) { return masking_cross_entropy<TestType>(seed); }, path);
  }
  SECTION("denoising, Gaussian noise, logits loss, weight decay") {
    check_round_trip(gaussian_logits_decay<TestType>, path);
  }
  SECTION("denoising, salt and pepper, L1 sparse, ELU") {
    check_round_trip([](std::uint64_t seed) { return salt_and_pepper_l1<TestType>(seed); }, path);
  }
  SECTION("KL sparse") { check_round_trip(kl_sparse<TestType>, path); }
  SECTION("contractive") { check_round_trip(contractive<TestType>, path); }
  SECTION("tied decoder, LeakyReLU") {
    check_round_trip([](std::uint64_t seed) { return tied<TestType>(seed); }, path);
  }
  SECTION("feed-forward classifier") { check_round_trip(classifier<TestType>, path); }
  SECTION("feed-forward regression") { check_round_trip(regression<TestType>, path); }
  SECTION("VAE, Bernoulli") { check_round_trip(bernoulli_vae<TestType>, path); }
  SECTION("VAE, Gaussian, beta, weight decay") {
    check_round_trip([](std::uint64_t seed) { return gaussian_vae<TestType>(seed); }, path);
  }
  SECTION("VAE, Gaussian with learned variance") {
    check_round_trip(learned_variance_vae<TestType>, path);
  }
  SECTION("supervised autoencoder, binary head") { check_round_trip(supervised<TestType>, path); }
}

TEMPLATE_TEST_CASE("A loaded model computes exactly what the saved one did", "[io][model_file]",
                   float, double) {
  latent::testing::TempDir dir;
  auto saved = tied<TestType>(1);
  auto loaded = tied<TestType>(2);
  const latent::Matrix<TestType> X = latent::testing::uniform_matrix<TestType>(4, 7, 3, 0.0, 1.0);
  const latent::Matrix<TestType> expected = saved.reconstruct(X);
  latent::io::save(saved, dir / "model.bin");
  latent::io::load(loaded, dir / "model.bin");
  const latent::Matrix<TestType> actual = loaded.reconstruct(X);
  CHECK(std::memcmp(actual.data(), expected.data(), sizeof(TestType) * static_cast<std::size_t>(X.size())) == 0);
}

TEMPLATE_TEST_CASE("A model file has the documented layout", "[io][model_file]", float, double) {
  latent::testing::TempDir dir;
  const auto model = classifier<TestType>(5);
  latent::io::save(model, dir / "model.bin");
  const Bytes bytes = read_all(dir / "model.bin");
  const std::string text = architecture(model);
  const std::size_t count = static_cast<std::size_t>(model.parameter_count());
  const std::size_t width = sizeof(TestType);
  REQUIRE(bytes.size() == 32 + text.size() + count * width);

  CHECK(Bytes(bytes.begin(), bytes.begin() + 8) == Bytes{0x89, 'L', 'A', 'T', 'E', 'N', 'T', 0x0a});
  CHECK(u32_at(bytes, 8) == latent::io::model_file_version);
  CHECK(u32_at(bytes, 12) == (width == 4 ? 1u : 2u));
  CHECK(u32_at(bytes, 16) == text.size());
  CHECK(std::string(bytes.begin() + 20, bytes.begin() + 20 + static_cast<std::ptrdiff_t>(text.size())) == text);
  CHECK(u64_at(bytes, 20 + text.size()) == count);
  bool parameters_match = true;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = 28 + text.size() + i * width;
    const std::uint64_t bits = width == 4 ? u32_at(bytes, at) : u64_at(bytes, at);
    TestType value;
    if constexpr (sizeof(TestType) == 4) {
      const auto narrow = static_cast<std::uint32_t>(bits);
      std::memcpy(&value, &narrow, 4);
    } else {
      std::memcpy(&value, &bits, 8);
    }
    parameters_match = parameters_match &&
                       std::memcmp(&value, model.parameters().data() + i, width) == 0;
  }
  CHECK(parameters_match);
  CHECK(u32_at(bytes, bytes.size() - 4) == crc_of(bytes));
}

TEST_CASE("architecture names the layers, the policies and every option exactly",
          "[io][model_file]") {
  const auto model = plain<float>(1);
  CHECK(architecture(model) == "Autoencoder(encoder=" + model.encoder().name() +
                                   ", decoder=" + model.decoder().name() +
                                   ", loss=MeanSquaredError, corruption=none, penalty=none, "
                                   "weight_decay=0)");
  CHECK(architecture(tied<float>(1)) ==
        "Autoencoder(encoder=Sequential(Dense<LeakyReLU(slope=0.2)>(4 -> 3), Dense<Tanh>(3 -> 2)), "
        "decoder=Sequential(TiedDense<LeakyReLU(slope=0.2)>(2 -> 3) sharing [15, 21), "
        "TiedDense<Sigmoid>(3 -> 4) sharing [0, 12)), loss=BinaryCrossEntropy, corruption=none, "
        "penalty=none, weight_decay=0)");
  CHECK(architecture(salt_and_pepper_l1<double>(1)) ==
        "Autoencoder(encoder=Sequential(Dense<ELU(alpha=0.5)>(4 -> 3)), "
        "decoder=Sequential(Dense<Identity>(3 -> 4)), loss=MeanSquaredError, "
        "corruption=salt_and_pepper(fraction=0.1, low=-1, high=1), penalty=l1(lambda=0.001), "
        "weight_decay=0)");
  CHECK_THAT(architecture(masking_cross_entropy<float>(1)), Contains("corruption=masking(fraction=0.3)"));
  CHECK_THAT(architecture(gaussian_logits_decay<float>(1)),
             Contains("loss=SigmoidCrossEntropy, corruption=gaussian(sigma=0.2), penalty=none, "
                      "weight_decay=0.0001"));
  CHECK_THAT(architecture(kl_sparse<float>(1)), Contains("penalty=kl(rho=0.1, beta=2)"));
  CHECK_THAT(architecture(contractive<float>(1)), Contains("penalty=contractive(lambda=0.05)"));
  CHECK(architecture(classifier<float>(1)) ==
        "FeedForward(network=Sequential(Dense<ReLU>(4 -> 3), Dense<Identity>(3 -> 3)), "
        "loss=SoftmaxCrossEntropy, weight_decay=0.001)");
  CHECK(architecture(gaussian_vae<float>(1)) ==
        "VariationalAutoencoder(body=Sequential(Dense<Tanh>(4 -> 3)), latent_size=2, "
        "decoder=Sequential(Dense<Identity>(2 -> 4)), likelihood=Gaussian(variance=0.5), beta=4, "
        "weight_decay=0.0001)");
  CHECK_THAT(architecture(bernoulli_vae<float>(1)), Contains("likelihood=Bernoulli, beta=1"));
  CHECK_THAT(architecture(learned_variance_vae<float>(1)), Contains("likelihood=GaussianLearnedVariance"));
  CHECK(architecture(supervised<float>(1)) ==
        "SupervisedAutoencoder(encoder=Sequential(Dense<ReLU>(4 -> 3)), "
        "decoder=Sequential(Dense<Sigmoid>(3 -> 4)), head=Sequential(Dense<Identity>(3 -> 1)), "
        "loss=BinaryCrossEntropy, head_kind=BinaryLabel, alpha=0.25, weight_decay=0.0001)");

  // Numbers print in their shortest form that reads back exactly, whatever the locale.
  using latent::detail::number_text;
  CHECK(number_text(0.1) == "0.1");
  CHECK(number_text(1e-7) == "1e-07");
  CHECK(number_text(-0.0) == "-0");
  CHECK(number_text(0.1 + 0.2) == "0.30000000000000004");
  CHECK(number_text(std::nextafter(1e-3, 1.0)) != number_text(1e-3));
  const latent::Matrix<double> samples = latent::testing::uniform_matrix<double>(50, 1, 11, -1e6, 1e6);
  for (latent::Index i = 0; i < samples.size(); ++i)
    CHECK(std::stod(number_text(samples(i))) == samples(i));
}

TEST_CASE("load refuses a file made for another architecture, naming both", "[io][model_file]") {
  latent::testing::TempDir dir;
  const Path path = dir / "model.bin";
  SECTION("other sizes") {
    latent::Rng rng(2);
    auto other = latent::Autoencoder(
        Sequential{Dense<double, latent::Tanh>(4, 3), Dense<double, latent::Tanh>(3, 1)},
        Sequential{Dense<double, latent::Tanh>(1, 3), Dense<double>(3, 4)}, rng);
    check_other_architecture(plain<double>(1), other, path);
  }
  SECTION("another activation, the same parameter count") {
    latent::Rng rng(2);
    auto other = latent::Autoencoder(
        Sequential{Dense<double, latent::Tanh>(4, 3), Dense<double, latent::Sigmoid>(3, 2)},
        Sequential{Dense<double, latent::Tanh>(2, 3), Dense<double>(3, 4)}, rng);
    REQUIRE(other.parameter_count() == plain<double>(1).parameter_count());
    check_other_architecture(plain<double>(1), other, path);
  }
  SECTION("another loss") {
    latent::Rng rng(2);
    auto other = latent::Autoencoder(Sequential{Dense<double, latent::ReLU>(4, 3)},
                                     Sequential{Dense<double, latent::Sigmoid>(3, 4)}, rng,
                                     latent::MeanSquaredError{}, latent::MaskingNoise(0.3));
    check_other_architecture(masking_cross_entropy<double>(1), other, path);
  }
  SECTION("another corruption fraction") {
    auto other = masking_cross_entropy<double>(2, 0.25);
    check_other_architecture(masking_cross_entropy<double>(1), other, path);
  }
  SECTION("a penalty weight one bit apart") {
    auto other = salt_and_pepper_l1<double>(2, std::nextafter(1e-3, 1.0));
    check_other_architecture(salt_and_pepper_l1<double>(1), other, path);
  }
  SECTION("another weight decay") {
    latent::Rng rng(2);
    auto other = latent::Autoencoder(Sequential{Dense<double, latent::Softplus>(4, 2)},
                                     Sequential{Dense<double>(2, 4)}, rng,
                                     latent::SigmoidCrossEntropy{}, latent::GaussianNoise(0.2));
    check_other_architecture(gaussian_logits_decay<double>(1), other, path);
  }
  SECTION("another LeakyReLU slope in a tied autoencoder") {
    auto other = tied<double>(2, 0.1);
    check_other_architecture(tied<double>(1), other, path);
  }
  SECTION("another model kind with the same layers") {
    latent::Rng rng(2);
    auto other = latent::FeedForward(Sequential{Dense<double, latent::Softplus>(4, 2), Dense<double>(2, 4)}, rng);
    REQUIRE(other.parameter_count() == gaussian_logits_decay<double>(1).parameter_count());
    check_other_architecture(gaussian_logits_decay<double>(1), other, path);
  }
  SECTION("another VAE beta") {
    auto other = gaussian_vae<double>(2, 1.0);
    check_other_architecture(gaussian_vae<double>(1), other, path);
  }
  SECTION("another VAE likelihood variance") {
    auto other = gaussian_vae<double>(2, 4.0, 1.0);
    check_other_architecture(gaussian_vae<double>(1), other, path);
  }
}

TEMPLATE_TEST_CASE("load refuses a file of the other scalar type", "[io][model_file]", float,
                   double) {
  using Other = std::conditional_t<std::is_same_v<TestType, float>, double, float>;
  latent::testing::TempDir dir;
  latent::io::save(plain<Other>(1), dir / "model.bin");
  auto model = plain<TestType>(2);
  const std::string message = refused(model, dir / "model.bin");
  const std::string saved = std::is_same_v<Other, float> ? "float" : "double";
  const std::string mine = std::is_same_v<TestType, float> ? "float" : "double";
  CHECK_THAT(message, Contains("the file holds " + saved + " parameters but the model's are " + mine));
  CHECK_THAT(message, Contains((dir / "model.bin").string()));

  // Both differences at once are both named.
  latent::io::save(tiny<Other>(1), dir / "tiny.bin");
  CHECK_THAT(refused(model, dir / "tiny.bin"),
             Contains(saved + " parameters") && Contains("; it holds '" + architecture(tiny<Other>(1))));
}

TEST_CASE("load refuses a foreign file, a newer version and a corrupt header, leaving the model "
          "as it was",
          "[io][model_file]") {
  latent::testing::TempDir dir;
  auto model = plain<float>(2);
  latent::io::save(plain<float>(1), dir / "good.bin");
  const Bytes good = read_all(dir / "good.bin");
  const std::size_t text = architecture(model).size();
  const auto refuse = [&](const Bytes& bytes, const std::string& problem) {
    write_raw(dir / "bad.bin", bytes);
    CHECK_THAT(refused(model, dir / "bad.bin"),
               Contains(problem) && Contains((dir / "bad.bin").string()));
  };

  Bytes bytes = good;
  bytes[1] = 'X';
  refuse(resealed(bytes), "not a latent model file");
  refuse(Bytes{'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd', '\n'}, "not a latent model file");
  refuse(Bytes{}, "truncated: 0 bytes");

  bytes = good;
  set_u32(bytes, 8, 2);
  refuse(resealed(bytes), "format version 2 is newer than the version 1 this build of latent reads");
  set_u32(bytes, 8, 0);
  refuse(resealed(bytes), "format version 0 does not exist");

  bytes = good;
  set_u32(bytes, 12, 3);
  refuse(resealed(bytes), "unknown scalar type code 3");

  bytes = good;
  bytes.push_back(0);
  refuse(bytes, "1 bytes more than the header announces (trailing data)");

  bytes = good;
  bytes[28 + text] ^= 0x01;  // the first parameter
  refuse(bytes, "checksum mismatch");
  bytes = good;
  bytes.back() ^= 0x80;  // the checksum itself
  refuse(bytes, "checksum mismatch");

  bytes = good;
  set_u64(bytes, 20 + text, 3);  // fewer parameters than stored, consistently resealed
  refuse(resealed(bytes), "trailing data");
}

TEST_CASE("load refuses a header claiming more than the file holds before allocating",
          "[io][model_file]") {
  // Under AddressSanitizer an allocation of these sizes would abort the test, not throw.
  latent::testing::TempDir dir;
  auto model = plain<double>(2);
  latent::io::save(plain<double>(1), dir / "good.bin");
  const Bytes good = read_all(dir / "good.bin");
  const std::size_t text = architecture(model).size();
  const auto refuse = [&](const Bytes& bytes, const std::string& problem) {
    write_raw(dir / "huge.bin", bytes);
    CHECK_THAT(refused(model, dir / "huge.bin"), Contains(problem));
  };

  Bytes bytes = good;
  set_u32(bytes, 16, 0xffffffffu);
  refuse(resealed(bytes), "announces an architecture text of 4294967295 bytes, but the whole file has");
  for (std::uint64_t count : {std::uint64_t{1} << 40, std::uint64_t{1} << 61,
                              std::numeric_limits<std::uint64_t>::max()}) {
    bytes = good;
    set_u64(bytes, 20 + text, count);
    refuse(resealed(bytes), "truncated: the header announces " + std::to_string(count) + " double parameters");
  }
}

TEMPLATE_TEST_CASE("load refuses a file cut at any byte", "[io][model_file]", float, double) {
  latent::testing::TempDir dir;
  auto model = tiny<TestType>(2);
  latent::io::save(tiny<TestType>(1), dir / "whole.bin");
  const Bytes whole = read_all(dir / "whole.bin");
  write_raw(dir / "cut.bin", whole);
  for (std::size_t size = whole.size(); size-- > 0;) {
    INFO("first " << size << " of " << whole.size() << " bytes");
    std::filesystem::resize_file(dir / "cut.bin", size);  // cheaper than rewriting the file
    CHECK_THAT(refused(model, dir / "cut.bin"), Contains("truncated"));
  }
}

TEMPLATE_TEST_CASE("load refuses a file with any single bit flipped", "[io][model_file]", float,
                   double) {
  latent::testing::TempDir dir;
  auto model = tiny<TestType>(2);
  latent::io::save(tiny<TestType>(1), dir / "whole.bin");
  const Bytes whole = read_all(dir / "whole.bin");
  write_raw(dir / "flipped.bin", whole);
  for (std::size_t at = 0; at < whole.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      INFO("bit " << bit << " of byte " << at << " flipped");
      patch(dir / "flipped.bin", at, static_cast<std::uint8_t>(whole[at] ^ (1u << bit)));
      refused(model, dir / "flipped.bin");
    }
    patch(dir / "flipped.bin", at, whole[at]);
  }
  latent::io::load(model, dir / "flipped.bin");  // every byte restored: the file loads again
  CHECK(same_bits(model.parameters(), tiny<TestType>(1).parameters()));
}

TEST_CASE("load refuses a missing file and a directory, naming the path", "[io][model_file]") {
  latent::testing::TempDir dir;
  auto model = tiny<float>(1);
  CHECK_THAT(refused(model, dir / "missing.bin"),
             Contains((dir / "missing.bin").string()) && Contains("no such file"));
  CHECK_THAT(refused(model, dir.path()), Contains("not a regular file"));
}

TEST_CASE("save replaces an existing file and leaves nothing else beside it", "[io][model_file]") {
  latent::testing::TempDir dir;
  const auto first = plain<float>(1);
  const auto second = plain<float>(2);
  auto loaded = plain<float>(3);
  latent::io::save(first, dir / "model.bin");
  latent::io::save(second, dir / "model.bin");
  CHECK(names_in(dir.path()) == std::set<std::string>{"model.bin"});
  latent::io::load(loaded, dir / "model.bin");
  CHECK(same_bits(loaded.parameters(), second.parameters()));
}

TEST_CASE("A failed save throws naming the path and leaves no temporary file", "[io][model_file]") {
  latent::testing::TempDir dir;
  const auto model = plain<float>(1);
  const auto save_message = [&](const Path& path) -> std::string {
    try {
      latent::io::save(model, path);
    } catch (const Error& e) {
      return e.what();
    }
    return "no exception";
  };

  SECTION("a missing folder") {
    const Path path = dir / "missing" / "model.bin";
    CHECK_THAT(save_message(path), Contains("cannot write '" + path.string() + "'") &&
                                       Contains("cannot create a temporary file"));
    CHECK(names_in(dir.path()).empty());
  }
  SECTION("a folder in the way: the rename fails") {
    std::filesystem::create_directory(dir / "model.bin");
    CHECK_THAT(save_message(dir / "model.bin"),
               Contains("cannot write '" + (dir / "model.bin").string() + "'") &&
                   Contains("cannot rename the temporary file over it"));
    CHECK(names_in(dir.path()) == std::set<std::string>{"model.bin"});
    CHECK(std::filesystem::is_directory(dir / "model.bin"));
  }
  SECTION("a path that names no file") {
    CHECK_THAT(save_message(dir.path() / ""), Contains("the path names no file"));
    CHECK(names_in(dir.path()).empty());
  }
#if defined(__unix__)
  SECTION("a write that fails midway (a file size limit, as a full disk would)") {
    latent::io::save(plain<float>(2), dir / "model.bin");
    const Bytes old = read_all(dir / "model.bin");
    rlimit limit{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &limit) == 0);
    const rlimit saved_limit = limit;
    limit.rlim_cur = 64;  // the file is a few hundred bytes
    const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);  // a failed write, not a signal
    REQUIRE(setrlimit(RLIMIT_FSIZE, &limit) == 0);
    const std::string message = save_message(dir / "model.bin");
    REQUIRE(setrlimit(RLIMIT_FSIZE, &saved_limit) == 0);
    std::signal(SIGXFSZ, saved_handler);
    CHECK_THAT(message, Contains("cannot write '" + (dir / "model.bin").string() + "'") &&
                            Contains("writing the temporary file failed"));
    CHECK(names_in(dir.path()) == std::set<std::string>{"model.bin"});
    CHECK(read_all(dir / "model.bin") == old);
  }
#endif
}

#endif  // LATENT_HAVE_ZLIB
