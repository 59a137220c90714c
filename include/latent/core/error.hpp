#ifndef LATENT_CORE_ERROR_HPP
#define LATENT_CORE_ERROR_HPP

#include <stdexcept>
#include <string>

namespace latent {

/// What latent throws for malformed data and files, and for training that diverged.
/// Caller mistakes (shapes, options) are std::invalid_argument instead.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace latent

#endif  // LATENT_CORE_ERROR_HPP
