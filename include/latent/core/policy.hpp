#ifndef LATENT_CORE_POLICY_HPP
#define LATENT_CORE_POLICY_HPP

#include <type_traits>
#include <utility>

namespace latent {

/// What a policy type is for, declared as its member `using kind = ...;` so that models can take
/// their policies as constructor arguments in any order and deduce their own type from them:
///   Autoencoder model(encoder, decoder, rng, BinaryCrossEntropy{}, MaskingNoise(0.3));
/// A policy of your own declares the kind of the ones it stands beside.
struct loss_kind {};
struct corruption_kind {};
struct penalty_kind {};
struct classifier_loss_kind {};

namespace detail {

template <class T, class Kind, class = void>
struct is_kind : std::false_type {};
template <class T, class Kind>
struct is_kind<T, Kind, std::void_t<typename T::kind>>
    : std::is_same<typename T::kind, Kind> {};

/// The first of Ts whose kind is Kind, or Default.
template <class Kind, class Default, class... Ts>
struct find_kind {
  using type = Default;
};
template <class Kind, class Default, class T, class... Ts>
struct find_kind<Kind, Default, T, Ts...> {
  using type = std::conditional_t<is_kind<T, Kind>::value, T,
                                  typename find_kind<Kind, Default, Ts...>::type>;
};
template <class Kind, class Default, class... Ts>
using find_kind_t = typename find_kind<Kind, Default, Ts...>::type;

/// The first argument of type T, or T{} if there is none.
template <class T>
T pick() {
  return T{};
}
template <class T, class First, class... Rest>
T pick(const First& first, const Rest&... rest) {
  if constexpr (std::is_same_v<T, First>) return first;
  else return pick<T>(rest...);
}

/// Whether a policy has options to validate: `void check() const`, throwing
/// std::invalid_argument naming the option and its bound. Its constructor calls it, and so do
/// the models that hold it, because the options are public fields a caller may set afterwards.
template <class T, class = void>
struct has_check : std::false_type {};
template <class T>
struct has_check<T, std::void_t<decltype(std::declval<const T&>().check())>> : std::true_type {};

/// policy.check() if the policy has one; nothing for a policy without options.
template <class Policy>
void check_policy(const Policy& policy) {
  if constexpr (has_check<Policy>::value) policy.check();
}

template <class T, class... Ts>
constexpr int count_of = (0 + ... + static_cast<int>(std::is_same_v<T, Ts>));

}  // namespace detail
}  // namespace latent

#endif  // LATENT_CORE_POLICY_HPP
