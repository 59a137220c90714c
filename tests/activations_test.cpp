#include <latent/activations.hpp>

#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include "support/gradient_check.hpp"

// Every activation is checked at points worked out by hand, against a central difference of its
// own value, at the extremes of float, and for the constants it refuses.

namespace {

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

template <class S>
using Array = Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic>;

/// The activation under test, with a non-default constant where it has one, so that a constant
/// that is ignored (or applied twice) shows.
template <class Act>
Act sample_activation() {
  return Act{};
}
template <>
latent::LeakyReLU sample_activation<latent::LeakyReLU>() {
  return latent::LeakyReLU(0.2);
}
template <>
latent::ELU sample_activation<latent::ELU>() {
  return latent::ELU(0.5);
}

template <class S>
Array<S> column(std::initializer_list<S> values) {
  Array<S> z(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (S v : values) z(i++) = v;
  return z;
}

template <class S, class Act>
Array<S> value_of(const Act& act, const Array<S>& z) {
  return act.value(z);
}

template <class S, class Act>
Array<S> derivative_of(const Act& act, const Array<S>& z) {
  const Array<S> a = act.value(z);
  return act.derivative(z, a);
}

/// Checks each entry of `actual` against `expected`: relative `eps`, or absolute `tiny` near 0.
template <class S>
void check_entries(const Array<S>& actual, const Array<S>& expected, double eps, double tiny) {
  REQUIRE(actual.rows() == expected.rows());
  REQUIRE(actual.cols() == expected.cols());
  for (Eigen::Index i = 0; i < actual.size(); ++i) {
    INFO("entry " << i);
    CHECK_THAT(static_cast<double>(actual(i)),
               WithinRel(static_cast<double>(expected(i)), eps) ||
                   WithinAbs(static_cast<double>(expected(i)), tiny));
  }
}

/// Tolerances for values computed in S from hand-derived doubles.
template <class S>
constexpr double value_eps() {
  return std::is_same_v<S, float> ? 1e-5 : 1e-12;
}

struct NotAnActivation {
  [[maybe_unused]] static constexpr const char* name = "NotAnActivation";
};

/// Has a value but no derivative: half an activation is not one.
struct ValueOnly {
  [[maybe_unused]] static constexpr const char* name = "ValueOnly";
  [[maybe_unused]] static constexpr latent::Init default_init = latent::Init::glorot_uniform;
  template <class Z>
  auto value(const Eigen::ArrayBase<Z>& z) const {
    return z.derived();
  }
};

}  // namespace

TEMPLATE_TEST_CASE("Activations give their hand-computed values", "[activations]", float,
                   double) {
  using S = TestType;
  const double ln2 = std::log(2.0);
  const double ln3 = std::log(3.0);
  const double eps = value_eps<S>();
  const double tiny = 1e-30;

  SECTION("Identity returns its input") {
    const Array<S> z = column<S>({S(-2.5), S(0), S(3.25)});
    check_entries<S>(value_of(latent::Identity{}, z), z, eps, tiny);
  }
  SECTION("Sigmoid: 1/(1+1) = 0.5, 1/(1+1/3) = 0.75, 1/(1+3) = 0.25") {
    const Array<S> z = column<S>({S(0), S(ln3), S(-ln3)});
    check_entries<S>(value_of(latent::Sigmoid{}, z), column<S>({S(0.5), S(0.75), S(0.25)}), eps,
                     tiny);
  }
  SECTION("Tanh: tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 0.6, odd") {
    const Array<S> z = column<S>({S(0), S(ln2), S(-ln2)});
    check_entries<S>(value_of(latent::Tanh{}, z), column<S>({S(0), S(0.6), S(-0.6)}), eps, tiny);
  }
  SECTION("ReLU keeps positives and zeroes the rest") {
    const Array<S> z = column<S>({S(-2), S(0), S(3)});
    check_entries<S>(value_of(latent::ReLU{}, z), column<S>({S(0), S(0), S(3)}), eps, tiny);
  }
  SECTION("LeakyReLU(0.2): -2 * 0.2 = -0.4, positives unchanged") {
    const Array<S> z = column<S>({S(-2), S(0), S(3)});
    check_entries<S>(value_of(latent::LeakyReLU(0.2), z), column<S>({S(-0.4), S(0), S(3)}), eps,
                     tiny);
  }
  SECTION("LeakyReLU defaults to slope 0.01") {
    const Array<S> z = column<S>({S(-2)});
    check_entries<S>(value_of(latent::LeakyReLU{}, z), column<S>({S(-0.02)}), eps, tiny);
  }
  SECTION("ELU(0.5): 0.5 (exp(-ln 2) - 1) = 0.5 (0.5 - 1) = -0.25, positives unchanged") {
    const Array<S> z = column<S>({S(-ln2), S(0), S(3)});
    check_entries<S>(value_of(latent::ELU(0.5), z), column<S>({S(-0.25), S(0), S(3)}), eps,
                     tiny);
  }
  SECTION("ELU defaults to alpha 1: exp(-ln 2) - 1 = -0.5") {
    const Array<S> z = column<S>({S(-ln2)});
    check_entries<S>(value_of(latent::ELU{}, z), column<S>({S(-0.5)}), eps, tiny);
  }
  SECTION("Softplus: log(1 + 1) = ln 2, log(1 + 3) = 2 ln 2, log(1 + 1/3) = ln 4 - ln 3") {
    const Array<S> z = column<S>({S(0), S(ln3), S(-ln3)});
    check_entries<S>(value_of(latent::Softplus{}, z),
                     column<S>({S(ln2), S(2 * ln2), S(2 * ln2 - ln3)}), eps, tiny);
  }
}

TEMPLATE_TEST_CASE("Activations give their hand-computed derivatives", "[activations]", float,
                   double) {
  using S = TestType;
  const double ln2 = std::log(2.0);
  const double eps = value_eps<S>();
  const double tiny = 1e-30;

  SECTION("Identity: 1 everywhere") {
    const Array<S> z = column<S>({S(-2), S(0), S(5)});
    check_entries<S>(derivative_of(latent::Identity{}, z), column<S>({S(1), S(1), S(1)}), eps,
                     tiny);
  }
  SECTION("Sigmoid: a (1 - a) = 0.25 at 0, 0.2 * 0.8 = 0.16 where a = 0.8 (z = ln 4)") {
    const Array<S> z = column<S>({S(0), S(2 * ln2)});
    check_entries<S>(derivative_of(latent::Sigmoid{}, z), column<S>({S(0.25), S(0.16)}), eps,
                     tiny);
  }
  SECTION("Tanh: 1 - a^2 = 1 at 0, 1 - 0.36 = 0.64 at ln 2") {
    const Array<S> z = column<S>({S(0), S(ln2)});
    check_entries<S>(derivative_of(latent::Tanh{}, z), column<S>({S(1), S(0.64)}), eps, tiny);
  }
  SECTION("ReLU: 0 below and at the kink, 1 above") {
    const Array<S> z = column<S>({S(-2), S(0), S(3)});
    check_entries<S>(derivative_of(latent::ReLU{}, z), column<S>({S(0), S(0), S(1)}), eps, tiny);
  }
  SECTION("LeakyReLU(0.2): the slope below, 1 above") {
    const Array<S> z = column<S>({S(-2), S(3)});
    check_entries<S>(derivative_of(latent::LeakyReLU(0.2), z), column<S>({S(0.2), S(1)}), eps,
                     tiny);
  }
  SECTION("ELU(0.5): a + alpha = -0.25 + 0.5 = 0.25 at -ln 2, 1 above") {
    const Array<S> z = column<S>({S(-ln2), S(3)});
    check_entries<S>(derivative_of(latent::ELU(0.5), z), column<S>({S(0.25), S(1)}), eps, tiny);
  }
  SECTION("Softplus: sigmoid(z) = 0.5 at 0, 0.8 at ln 4") {
    const Array<S> z = column<S>({S(0), S(2 * ln2)});
    check_entries<S>(derivative_of(latent::Softplus{}, z), column<S>({S(0.5), S(0.8)}), eps,
                     tiny);
  }
}

TEMPLATE_TEST_CASE("An activation's derivative is the central difference of its value",
                   "[activations]", latent::Identity, latent::Sigmoid, latent::Tanh, latent::ReLU,
                   latent::LeakyReLU, latent::ELU, latent::Softplus) {
  const TestType act = sample_activation<TestType>();
  // Points in [-4, 4] on a grid that misses 0 by 0.05: the ReLU family has a kink there, and
  // a difference step of 1e-5 must not cross it.
  const double offset = GENERATE(0.05, -0.05);
  Eigen::VectorXd z(41);
  for (Eigen::Index i = 0; i < z.size(); ++i) z(i) = -4.0 + 0.2 * static_cast<double>(i) + offset;
  REQUIRE((z.array().abs() > 1e-3).all());

  const Array<double> za = z.array();
  const Array<double> a = act.value(za);
  const Array<double> analytic = act.derivative(za, a);

  // The activation is element-wise, so d/dz_i sum_k f(z_k) = f'(z_i).
  Eigen::VectorXd point = z;
  const Eigen::VectorXd numeric = latent::testing::numerical_gradient(
      [&] { return static_cast<double>(act.value(point.array()).sum()); }, point);
  const Eigen::VectorXd analytic_vector = analytic.matrix();
  INFO(TestType::name << ": analytic " << analytic_vector.transpose() << "\nnumeric "
                      << numeric.transpose());
  CHECK(latent::testing::relative_error(analytic_vector, numeric) < 1e-6);
}

TEMPLATE_TEST_CASE("Activations stay finite at the extremes of float", "[activations]",
                   latent::Identity, latent::Sigmoid, latent::Tanh, latent::ReLU,
                   latent::LeakyReLU, latent::ELU, latent::Softplus) {
  const TestType act = sample_activation<TestType>();
  // exp(88) is near the top of float (3.4e38); exp(89) and exp(1000) overflow.
  const Array<float> z = column<float>({-1000.f, -88.f, 88.f, 1000.f});
  const Array<float> a = act.value(z);
  const Array<float> d = act.derivative(z, a);
  INFO(TestType::name << ": values " << a.transpose() << ", derivatives " << d.transpose());
  CHECK(a.allFinite());
  CHECK(d.allFinite());
  // Every activation here is non-decreasing, so its derivative is never negative.
  CHECK((d >= 0.f).all());
}

TEST_CASE("Sigmoid, Tanh, Softplus and ELU saturate exactly at the extremes of float",
          "[activations]") {
  const Array<float> z = column<float>({-1000.f, -88.f, 88.f, 1000.f});

  SECTION("Sigmoid stays in [0, 1] and reaches its ends") {
    const Array<float> a = latent::Sigmoid{}.value(z);
    CHECK((a >= 0.f).all());
    CHECK((a <= 1.f).all());
    CHECK_THAT(a(0), WithinAbs(0.0, 1e-30));
    CHECK(a(3) == 1.f);
  }
  SECTION("Tanh reaches -1 and 1") {
    const Array<float> a = latent::Tanh{}.value(z);
    CHECK(a(0) == -1.f);
    CHECK(a(3) == 1.f);
  }
  SECTION("Softplus(1000) is 1000 and softplus(-1000) is 0, not inf and not log(1)") {
    const Array<float> a = latent::Softplus{}.value(z);
    CHECK(a(3) == 1000.f);
    CHECK(a(2) == 88.f);
    CHECK(a(0) >= 0.f);
    CHECK_THAT(a(0), WithinAbs(0.0, 1e-30));
  }
  SECTION("ELU(0.5) tends to -alpha below") {
    const Array<float> a = latent::ELU(0.5).value(z);
    CHECK(a(0) == -0.5f);
    CHECK(a(3) == 1000.f);
  }
}

TEST_CASE("Activations refuse constants outside their domain", "[activations]") {
  SECTION("LeakyReLU needs a slope in [0, 1)") {
    CHECK_THROWS_AS(latent::LeakyReLU(-0.1), std::invalid_argument);
    CHECK_THROWS_AS(latent::LeakyReLU(1.0), std::invalid_argument);
    CHECK_THROWS_AS(latent::LeakyReLU(std::nan("")), std::invalid_argument);
    CHECK_THROWS_WITH(latent::LeakyReLU(1.5), Catch::Matchers::Contains("'slope'") &&
                                                  Catch::Matchers::Contains("1.5"));
    CHECK_NOTHROW(latent::LeakyReLU(0.0));
    CHECK_NOTHROW(latent::LeakyReLU(0.99));
  }
  SECTION("ELU needs a positive alpha") {
    CHECK_THROWS_AS(latent::ELU(0.0), std::invalid_argument);
    CHECK_THROWS_AS(latent::ELU(-1.0), std::invalid_argument);
    CHECK_THROWS_AS(latent::ELU(std::nan("")), std::invalid_argument);
    CHECK_THROWS_WITH(latent::ELU(-2.0), Catch::Matchers::Contains("'alpha'") &&
                                             Catch::Matchers::Contains("-2"));
    CHECK_NOTHROW(latent::ELU(1e-3));
  }
}

TEMPLATE_TEST_CASE("is_activation accepts every activation and nothing else", "[activations]",
                   float, double) {
  using S = TestType;
  STATIC_REQUIRE(latent::detail::is_activation<latent::Identity, S>::value);
  STATIC_REQUIRE(latent::detail::is_activation<latent::Sigmoid, S>::value);
  STATIC_REQUIRE(latent::detail::is_activation<latent::Tanh, S>::value);
  STATIC_REQUIRE(latent::detail::is_activation<latent::ReLU, S>::value);
  STATIC_REQUIRE(latent::detail::is_activation<latent::LeakyReLU, S>::value);
  STATIC_REQUIRE(latent::detail::is_activation<latent::ELU, S>::value);
  STATIC_REQUIRE(latent::detail::is_activation<latent::Softplus, S>::value);

  STATIC_REQUIRE_FALSE(latent::detail::is_activation<NotAnActivation, S>::value);
  STATIC_REQUIRE_FALSE(latent::detail::is_activation<ValueOnly, S>::value);
  STATIC_REQUIRE_FALSE(latent::detail::is_activation<int, S>::value);
}

TEST_CASE("Activations name themselves and pick He for the ReLU family, Glorot otherwise",
          "[activations]") {
  CHECK(std::string(latent::Identity::name) == "Identity");
  CHECK(std::string(latent::Sigmoid::name) == "Sigmoid");
  CHECK(std::string(latent::Tanh::name) == "Tanh");
  CHECK(std::string(latent::ReLU::name) == "ReLU");
  CHECK(std::string(latent::LeakyReLU::name) == "LeakyReLU");
  CHECK(std::string(latent::ELU::name) == "ELU");
  CHECK(std::string(latent::Softplus::name) == "Softplus");

  CHECK(latent::Identity::default_init == latent::Init::glorot_uniform);
  CHECK(latent::Sigmoid::default_init == latent::Init::glorot_uniform);
  CHECK(latent::Tanh::default_init == latent::Init::glorot_uniform);
  CHECK(latent::Softplus::default_init == latent::Init::glorot_uniform);
  CHECK(latent::ReLU::default_init == latent::Init::he_uniform);
  CHECK(latent::LeakyReLU::default_init == latent::Init::he_uniform);
  CHECK(latent::ELU::default_init == latent::Init::he_uniform);
}
