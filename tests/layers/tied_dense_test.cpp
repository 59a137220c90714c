#include <latent/layers/tied_dense.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <latent/activations.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/losses.hpp>
#include <latent/models/autoencoder.hpp>

#include "support/allocation_counter.hpp"
#include "support/data.hpp"
#include "support/gradient_check.hpp"

// TiedDense and tied_decoder: the decoder uses the encoder's weights transposed with biases of
// its own, the shared matrix's gradient is the sum of its two uses (against central
// differences and against an untied model holding the transpose), it is decayed once, an
// Autoencoder refuses ties that are not its encoder's, and const inference agrees with forward.

namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using latent::Index;
using latent::testing::numerical_gradient;
using latent::testing::relative_error;
using latent::testing::uniform_matrix;

template <class S>
using Matrix = latent::Matrix<S>;
template <class S>
using Vector = latent::Vector<S>;

/// Entry-wise comparison: relative `eps`, or absolute `tiny` near zero.
template <class A, class B>
void check_close(const A& actual, const B& expected, double eps, double tiny) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  for (Index j = 0; j < actual.cols(); ++j)
    for (Index i = 0; i < actual.rows(); ++i) {
      INFO("entry (" << i << ", " << j << ")");
      REQUIRE_THAT(static_cast<double>(actual(i, j)),
                   WithinRel(static_cast<double>(expected(i, j)), eps) ||
                       WithinAbs(static_cast<double>(expected(i, j)), tiny));
    }
}

template <class S>
double tolerance() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-12;
}

/// The const path against the workspace path: equal but for a few roundings (their GEMMs may
/// block a product differently once a workspace has held a larger batch).
template <class S>
bool same_up_to_rounding(const Matrix<S>& actual, const Matrix<S>& expected) {
  const S tolerance = 8 * std::numeric_limits<S>::epsilon();
  return actual.rows() == expected.rows() && actual.cols() == expected.cols() &&
         ((actual - expected).array().abs() <= tolerance * expected.array().abs().max(S(1))).all();
}

/// Relative error between train_batch's gradient and central differences of its objective.
template <class Model>
double gradient_error(Model& model, const Matrix<double>& X) {
  latent::Rng rng(0);
  model.train_batch(X, rng);
  const Eigen::VectorXd analytic = model.gradients();
  REQUIRE(analytic.norm() > 1e-3);  // an all-zero gradient would check nothing
  const Eigen::VectorXd numeric =
      numerical_gradient([&] { return model.train_batch(X, rng); }, model.parameters());
  return relative_error(analytic, numeric);
}

/// Gives every decoder bias a non-zero value (TiedDense starts them at zero), so that the
/// tests see them.
template <class Model>
void randomise_decoder_biases(Model& model, std::uint64_t seed) {
  auto& decoder = model.decoder();
  auto* values = model.parameters().data();
  auto& first = decoder.template layer<0>();
  auto& second = decoder.template layer<1>();
  first.bias(values) = uniform_matrix<typename Model::Scalar>(first.output_size(), 1, seed);
  second.bias(values) = uniform_matrix<typename Model::Scalar>(second.output_size(), 1, seed + 1);
}

}  // namespace

TEMPLATE_TEST_CASE("TiedDense computes f(W^T x + c) from its source's weight and its own bias",
                   "[tied]", float, double) {
  using S = TestType;
  latent::Dense<S, latent::Identity> source(5, 3);  // W 3x5 at [0, 15), b [15, 18)
  latent::TiedDense<S, latent::Sigmoid> tied(source);
  tied.place(18);  // c [18, 23)
  REQUIRE(tied.input_size() == 3);
  REQUIRE(tied.output_size() == 5);
  REQUIRE(tied.parameter_count() == 5);
  REQUIRE(tied.name() == "TiedDense<Sigmoid>(3 -> 5)");

  Vector<S> arena = uniform_matrix<S>(23, 1, 7);
  latent::Rng rng(1);
  tied.initialize(arena.data(), rng);
  SECTION("initialize zeroes its bias only, never the shared weight") {
    const Vector<S> before = uniform_matrix<S>(23, 1, 7);
    REQUIRE(arena.tail(5).isZero());
    REQUIRE(arena.head(18) == before.head(18));
  }
  SECTION("forward reads W of the source transposed") {
    arena.tail(5) = uniform_matrix<S>(5, 1, 8);
    const Matrix<S> X = uniform_matrix<S>(3, 4, 9);
    const Matrix<S> W = Eigen::Map<const Matrix<S>>(arena.data(), 3, 5);
    Matrix<S> expected = W.transpose() * X;
    expected.colwise() += arena.tail(5);
    expected = (S(1) / (S(1) + (-expected.array()).exp())).matrix();
    const Matrix<S> A = tied.forward(arena.data(), X);
    check_close(A, expected, tolerance<S>(), tolerance<S>());
  }
  SECTION("infer gives forward's result in caller storage") {
    arena.tail(5) = uniform_matrix<S>(5, 1, 8);
    const Matrix<S> X = uniform_matrix<S>(3, 4, 9);
    const Matrix<S> A = tied.forward(arena.data(), X);
    Matrix<S> out;
    std::as_const(tied).infer(arena.data(), X, out);
    CHECK(same_up_to_rounding(out, A));
  }
  SECTION("ties name the source's weight range and weights() is empty") {
    std::vector<latent::Segment> ties, weights;
    tied.ties(ties);
    tied.weights(weights);
    REQUIRE(ties.size() == 1);
    CHECK(ties[0].offset == 0);
    CHECK(ties[0].size == 15);
    CHECK(weights.empty());
  }
}

TEST_CASE("TiedDense's gradients match finite differences and accumulate into the source's range",
          "[tied][gradient]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  latent::Dense<double, latent::Tanh> source(5, 3);  // W [0, 15), b [15, 18)
  source.place(0);
  latent::TiedDense<double, latent::Sigmoid> tied(source);
  tied.place(18);
  Eigen::VectorXd arena = uniform_matrix(23, 1, seed);
  Matrix<double> X = uniform_matrix(3, 4, seed + 10);
  const Matrix<double> G = uniform_matrix(5, 4, seed + 20);  // L = sum(G .* A)
  auto loss = [&] { return (G.array() * tied.forward(arena.data(), X).array()).sum(); };

  Eigen::VectorXd gradients = Eigen::VectorXd::Zero(23);
  tied.forward(arena.data(), X);
  const Matrix<double> dX = tied.backward(arena.data(), gradients.data(), X, G, true);
  const Eigen::VectorXd dx = Eigen::Map<const Eigen::VectorXd>(dX.data(), dX.size());
  Eigen::Map<Eigen::VectorXd> x_flat(X.data(), X.size());
  Eigen::VectorXd x = x_flat;

  const Eigen::VectorXd numeric_parameters = numerical_gradient(loss, arena);
  auto loss_of_x = [&] {
    x_flat = x;
    return loss();
  };
  const Eigen::VectorXd numeric_input = numerical_gradient(loss_of_x, x);
  x_flat = x;

  CHECK(relative_error(gradients, numeric_parameters) < 1e-6);
  CHECK(relative_error(dx, numeric_input) < 1e-6);
  // The source's own bias is not the tied layer's business.
  CHECK(gradients.segment(15, 3).isZero());

  SECTION("a second backward adds to the first") {
    Eigen::VectorXd twice = gradients;
    tied.forward(arena.data(), X);
    tied.backward(arena.data(), twice.data(), X, G, false);
    check_close(twice, (2.0 * gradients).eval(), 1e-14, 1e-16);
  }
}

TEMPLATE_TEST_CASE("tied_decoder mirrors the encoder's Dense layers in reverse, transposed",
                   "[tied]", float, double) {
  using S = TestType;
  latent::Sequential encoder{latent::Dense<S, latent::Tanh>(6, 4),
                             latent::Dense<S, latent::Sigmoid>(4, 3)};
  auto decoder = latent::tied_decoder<latent::Identity>(encoder);
  // Hidden decoder layers take the activation of the encoder's hidden layers; the last takes
  // the Output argument.
  static_assert(std::is_same_v<decltype(decoder),
                               latent::Sequential<latent::TiedDense<S, latent::Tanh>,
                                                  latent::TiedDense<S, latent::Identity>>>);
  // Three layers: each decoder layer takes the activation of the encoder layer before its source.
  latent::Sequential deep{latent::Dense<S, latent::ReLU>(8, 6), latent::Dense<S, latent::Tanh>(6, 4),
                          latent::Dense<S, latent::Sigmoid>(4, 2)};
  static_assert(std::is_same_v<decltype(latent::tied_decoder<latent::Sigmoid>(deep)),
                               latent::Sequential<latent::TiedDense<S, latent::Tanh>,
                                                  latent::TiedDense<S, latent::ReLU>,
                                                  latent::TiedDense<S, latent::Sigmoid>>>);
  REQUIRE(decoder.template layer<0>().input_size() == 3);
  REQUIRE(decoder.template layer<0>().output_size() == 4);
  REQUIRE(decoder.template layer<1>().input_size() == 4);
  REQUIRE(decoder.template layer<1>().output_size() == 6);

  latent::Rng rng(3);
  latent::Autoencoder model(encoder, decoder, rng);
  // The encoder's (6*4 + 4) + (4*3 + 3) = 43 plus the decoder biases 4 + 6.
  REQUIRE(encoder.parameter_count() == 43);
  REQUIRE(model.parameter_count() == encoder.parameter_count() + 4 + 6);
  REQUIRE(model.decoder().parameter_count() == 10);

  const S* values = model.parameters().data();
  SECTION("the decoder biases start at zero") {
    CHECK(model.decoder().template layer<0>().bias(values).isZero());
    CHECK(model.decoder().template layer<1>().bias(values).isZero());
  }
  SECTION("reconstruct is W1^T tanh(W2^T h + c1) + c2 with h the code") {
    randomise_decoder_biases(model, 5);
    const Matrix<S> X = uniform_matrix<S>(6, 5, 6);
    const Matrix<S> W1 = model.encoder().template layer<0>().weight(values);  // 4x6
    const Matrix<S> W2 = model.encoder().template layer<1>().weight(values);  // 3x4
    const Vector<S> b1 = model.encoder().template layer<0>().bias(values);
    const Vector<S> b2 = model.encoder().template layer<1>().bias(values);
    const Vector<S> c1 = model.decoder().template layer<0>().bias(values);
    const Vector<S> c2 = model.decoder().template layer<1>().bias(values);

    Matrix<S> hidden = W1 * X;
    hidden.colwise() += b1;
    hidden = hidden.array().tanh().matrix();
    Matrix<S> code = W2 * hidden;
    code.colwise() += b2;
    code = (S(1) / (S(1) + (-code.array()).exp())).matrix();
    Matrix<S> back = W2.transpose() * code;
    back.colwise() += c1;
    back = back.array().tanh().matrix();
    Matrix<S> expected = W1.transpose() * back;
    expected.colwise() += c2;

    check_close(model.encode(X), code, tolerance<S>(), tolerance<S>());
    check_close(model.reconstruct(X), expected, 10 * tolerance<S>(), 10 * tolerance<S>());
  }
}

TEST_CASE("A tied autoencoder's gradient matches finite differences of its objective",
          "[tied][gradient]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  latent::Rng rng(seed);

  SECTION("one Sigmoid layer, Identity output, MeanSquaredError") {
    latent::Sequential encoder{latent::Dense<double, latent::Sigmoid>(7, 4)};
    latent::Autoencoder model(encoder, latent::tied_decoder<latent::Identity>(encoder), rng);
    model.decoder().last().bias(model.parameters().data()) = uniform_matrix(7, 1, seed + 5);
    REQUIRE(model.parameter_count() == 7 * 4 + 4 + 7);
    CHECK(gradient_error(model, uniform_matrix(7, 6, seed + 10)) < 1e-6);
  }
  SECTION("two layers, Sigmoid output, BinaryCrossEntropy") {
    latent::Sequential encoder{latent::Dense<double, latent::Tanh>(7, 5),
                               latent::Dense<double, latent::Sigmoid>(5, 3)};
    latent::Autoencoder model(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng,
                              latent::BinaryCrossEntropy{});
    randomise_decoder_biases(model, seed + 5);
    CHECK(gradient_error(model, uniform_matrix(7, 6, seed + 10, 0.05, 0.95)) < 1e-6);
  }
  SECTION("two layers with weight decay") {
    latent::AutoencoderOptions options;
    options.weight_decay = 0.05;
    latent::Sequential encoder{latent::Dense<double, latent::Tanh>(7, 5),
                               latent::Dense<double, latent::Tanh>(5, 3)};
    latent::Autoencoder model(encoder, latent::tied_decoder<latent::Identity>(encoder), rng,
                              options);
    randomise_decoder_biases(model, seed + 5);
    CHECK(gradient_error(model, uniform_matrix(7, 6, seed + 10)) < 1e-6);
  }
}

TEMPLATE_TEST_CASE("A tied weight's gradient is the sum of its encoder and decoder uses",
                   "[tied][gradient]", float, double) {
  using S = TestType;
  const double weight_decay = GENERATE(0.0, 0.1);
  INFO("weight decay " << weight_decay);
  latent::AutoencoderOptions options;
  options.weight_decay = weight_decay;
  latent::Rng rng(11);

  latent::Sequential encoder{latent::Dense<S, latent::Tanh>(6, 4),
                             latent::Dense<S, latent::Sigmoid>(4, 3)};
  latent::Autoencoder tied(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng, options);
  // The same model untied: a decoder of plain Dense layers holding W2^T and W1^T.
  latent::Autoencoder untied(encoder,
                             latent::Sequential{latent::Dense<S, latent::Tanh>(3, 4),
                                                latent::Dense<S, latent::Sigmoid>(4, 6)},
                             rng, options);
  randomise_decoder_biases(tied, 12);

  // Layouts. Tied: W1 4x6 [0, 24), b1 [24, 28), W2 3x4 [28, 40), b2 [40, 43), c1 [43, 47),
  // c2 [47, 53). Untied: the same encoder [0, 43), V1 4x3 [43, 55), c1 [55, 59), V2 6x4
  // [59, 83), c2 [83, 89).
  REQUIRE(tied.parameter_count() == 53);
  REQUIRE(untied.parameter_count() == 89);
  const Vector<S>& t = tied.parameters();
  Vector<S>& u = untied.parameters();
  u.head(43) = t.head(43);
  Eigen::Map<Matrix<S>>(u.data() + 43, 4, 3) = Eigen::Map<const Matrix<S>>(t.data() + 28, 3, 4).transpose();
  u.segment(55, 4) = t.segment(43, 4);
  Eigen::Map<Matrix<S>>(u.data() + 59, 6, 4) = Eigen::Map<const Matrix<S>>(t.data(), 4, 6).transpose();
  u.segment(83, 6) = t.segment(47, 6);

  const Matrix<S> X = uniform_matrix<S>(6, 5, 13, 0.0, 1.0);
  check_close(tied.reconstruct(X), untied.reconstruct(X), tolerance<S>(), tolerance<S>());
  const S tied_objective = tied.train_batch(X, rng);
  const S untied_objective = untied.train_batch(X, rng);
  const Vector<S>& gt = tied.gradients();
  const Vector<S>& gu = untied.gradients();

  // The untied model decays both copies of each matrix; the tied one decays it once.
  const S half = static_cast<S>(0.5 * weight_decay);
  const S once = half * (t.head(24).squaredNorm() + t.segment(28, 12).squaredNorm());
  CHECK_THAT(static_cast<double>(tied_objective),
             WithinRel(static_cast<double>(untied_objective - once), 10 * tolerance<S>()));

  const S lambda = static_cast<S>(weight_decay);
  Matrix<S> W1_sum = Eigen::Map<const Matrix<S>>(gu.data(), 4, 6);
  W1_sum += Eigen::Map<const Matrix<S>>(gu.data() + 59, 6, 4).transpose();
  W1_sum -= lambda * Eigen::Map<const Matrix<S>>(t.data(), 4, 6);
  Matrix<S> W2_sum = Eigen::Map<const Matrix<S>>(gu.data() + 28, 3, 4);
  W2_sum += Eigen::Map<const Matrix<S>>(gu.data() + 43, 4, 3).transpose();
  W2_sum -= lambda * Eigen::Map<const Matrix<S>>(t.data() + 28, 3, 4);

  const Matrix<S> W1_tied = Eigen::Map<const Matrix<S>>(gt.data(), 4, 6);
  const Matrix<S> W2_tied = Eigen::Map<const Matrix<S>>(gt.data() + 28, 3, 4);
  const double eps = std::is_same_v<S, float> ? 1e-4 : 1e-10;
  const double tiny = std::is_same_v<S, float> ? 1e-6 : 1e-14;
  check_close(W1_tied, W1_sum, eps, tiny);
  check_close(W2_tied, W2_sum, eps, tiny);
  // Encoder biases and decoder biases are not shared: the same gradients as untied.
  check_close(gt.segment(24, 4), gu.segment(24, 4), eps, tiny);
  check_close(gt.segment(40, 3), gu.segment(40, 3), eps, tiny);
  check_close(gt.segment(43, 4), gu.segment(55, 4), eps, tiny);
  check_close(gt.segment(47, 6), gu.segment(83, 6), eps, tiny);
  // Both uses contribute: neither alone is the sum.
  const Matrix<S> encoder_use = Eigen::Map<const Matrix<S>>(gu.data(), 4, 6);
  CHECK((W1_tied - encoder_use).norm() > S(1e-3) * W1_tied.norm());
}

TEST_CASE("An Autoencoder refuses a tied decoder built from another encoder",
          "[tied][errors]") {
  latent::Rng rng(1);
  latent::Sequential encoder{latent::Dense<double, latent::Tanh>(6, 4),
                             latent::Dense<double, latent::Tanh>(4, 2)};

  SECTION("another code size: the sizes do not fit") {
    latent::Sequential other{latent::Dense<double, latent::Tanh>(6, 4),
                             latent::Dense<double, latent::Tanh>(4, 3)};
    auto decoder = latent::tied_decoder<latent::Identity>(other);
    REQUIRE_THROWS_AS(latent::Autoencoder(encoder, decoder, rng), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Autoencoder(encoder, decoder, rng),
                        Contains("codes of 2") && Contains("takes 3"));
  }
  SECTION("same outer sizes, other hidden size: the ties point at no encoder weight") {
    latent::Sequential other{latent::Dense<double, latent::Tanh>(6, 5),
                             latent::Dense<double, latent::Tanh>(5, 2)};
    auto decoder = latent::tied_decoder<latent::Identity>(other);
    REQUIRE(decoder.input_size() == 2);
    REQUIRE(decoder.output_size() == 6);
    REQUIRE_THROWS_AS(latent::Autoencoder(encoder, decoder, rng), std::invalid_argument);
    REQUIRE_THROWS_WITH(latent::Autoencoder(encoder, decoder, rng), Contains("tied_decoder"));
  }
  SECTION("an encoder of the same shapes gives the same ties, and is accepted") {
    latent::Sequential twin{latent::Dense<double, latent::Tanh>(6, 4),
                            latent::Dense<double, latent::Tanh>(4, 2)};
    REQUIRE_NOTHROW(latent::Autoencoder(encoder, latent::tied_decoder<latent::Identity>(twin), rng));
  }
}

// Autoencoder::check_ties compares each tie's (offset, size) with a list of weight segments that
// holds the decoder's own Dense weights too (they are appended before the check), and never
// compares shapes. So a decoder that mixes Dense and TiedDense layers can tie to a decoder
// matrix, or read the encoder's matrix under another shape (a reshape, not the transpose), and
// be accepted, although the check and TiedDense's documentation promise that every tie is one
// of the encoder's matrices, transposed. Both sections fail with the current header.
TEST_CASE("An Autoencoder refuses ties that are not its encoder's weight matrices",
          "[tied][errors]") {
  latent::Rng rng(1);

  SECTION("a tie to one of the decoder's own weight matrices") {
    latent::Sequential encoder{latent::Dense<double, latent::Identity>(2, 2)};  // [0, 6)
    // other's second layer sits at [6, 16): where the model will place the decoder's Dense W.
    latent::Sequential other{latent::Dense<double, latent::Identity>(2, 2),
                             latent::Dense<double, latent::Identity>(2, 5)};
    latent::Sequential decoder{latent::Dense<double, latent::Tanh>(2, 5),
                               latent::TiedDense<double, latent::Identity>(other.layer<1>())};
    REQUIRE(decoder.input_size() == 2);
    REQUIRE(decoder.output_size() == 2);
    CHECK_THROWS_AS(latent::Autoencoder(encoder, decoder, rng), std::invalid_argument);
  }
  SECTION("a tie over the encoder's matrix under another shape") {
    // The encoder's W is 4x6 at [0, 24); other's is 6x4 at the same place.
    latent::Sequential encoder{latent::Dense<double, latent::Tanh>(6, 4)};
    latent::Sequential other{latent::Dense<double, latent::Identity>(4, 6)};
    latent::Sequential decoder{latent::Dense<double, latent::Tanh>(4, 6),
                               latent::TiedDense<double, latent::Tanh>(other.layer<0>()),  // 6 -> 4
                               latent::Dense<double, latent::Identity>(4, 6)};
    REQUIRE(decoder.input_size() == 4);
    REQUIRE(decoder.output_size() == 6);
    CHECK_THROWS_AS(latent::Autoencoder(encoder, decoder, rng), std::invalid_argument);
  }
}

TEMPLATE_TEST_CASE("A const tied autoencoder encodes and reconstructs as the workspace path does",
                   "[tied]", float, double) {
  using S = TestType;
  latent::Rng rng(4);
  const latent::Sequential encoder{latent::Dense<S, latent::ReLU>(30, 12),
                                   latent::Dense<S, latent::Tanh>(12, 4)};
  latent::Autoencoder model(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng);
  const auto& shared = model;
  const Matrix<S> X = uniform_matrix<S>(30, 300, 5, 0.0, 1.0);  // two inference blocks
  CHECK(same_up_to_rounding(shared.encode(X), model.encode(X)));
  CHECK(same_up_to_rounding(shared.reconstruct(X), model.reconstruct(X)));
}

TEST_CASE("A tied autoencoder's steady-state step allocates nothing", "[tied]") {
  latent::Rng rng(2);
  latent::Sequential encoder{latent::Dense<float, latent::Tanh>(8, 5),
                             latent::Dense<float, latent::Sigmoid>(5, 3)};
  latent::AutoencoderOptions options;
  options.weight_decay = 0.01;
  latent::Autoencoder model(encoder, latent::tied_decoder<latent::Sigmoid>(encoder), rng,
                            latent::BinaryCrossEntropy{}, options);
  const Matrix<float> X = uniform_matrix<float>(8, 16, 3, 0.0, 1.0);
  model.train_batch(X, rng);  // warm-up
  std::size_t allocations = 0;
  float objective = 0.0f;
  {
    const latent::testing::NoAllocationScope scope;
    objective = model.train_batch(X.leftCols(10), rng);
    allocations = scope.allocations();
  }
  CHECK(allocations == 0);
  CHECK(std::isfinite(objective));
}
