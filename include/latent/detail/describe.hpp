#ifndef LATENT_DETAIL_DESCRIBE_HPP
#define LATENT_DETAIL_DESCRIBE_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <locale>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace latent::detail {

/// The shortest decimal text that reads back as exactly `value` ("0.1", "1e-07", "-0"), in the
/// classic locale whatever the global one is. Descriptions of options go into model files, which
/// compare them as text: two options that differ in the last bit must not print alike, and the
/// same option must print alike on every machine.
inline std::string number_text(double value) {
  std::string text;
  // 17 significant digits always read back exactly; most options need far fewer.
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(digits);
    out << value;
    text = out.str();
    std::istringstream in(text);
    in.imbue(std::locale::classic());
    double back = 0.0;
    if ((in >> back) && back == value) break;
  }
  return text;
}

template <class T, class = void>
struct has_describe : std::false_type {};
template <class T>
struct has_describe<T, std::void_t<decltype(std::declval<const T&>().describe())>>
    : std::true_type {};

/// What a policy object is, options included: its `describe()` when it has options (e.g.
/// "masking(fraction=0.3)"), its `name` otherwise.
template <class Policy>
std::string describe(const Policy& policy) {
  if constexpr (has_describe<Policy>::value) return policy.describe();
  else return Policy::name;
}

}  // namespace latent::detail

#endif  // LATENT_DETAIL_DESCRIBE_HPP
