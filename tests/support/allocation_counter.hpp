#ifndef LATENT_TESTS_SUPPORT_ALLOCATION_COUNTER_HPP
#define LATENT_TESTS_SUPPORT_ALLOCATION_COUNTER_HPP

#include <cstddef>

namespace latent::testing {

/// Heap allocations through operator new since the program started (allocation_counter.cpp
/// replaces the global operator new). Eigen allocates with malloc, not new: tests watch it with
/// EIGEN_RUNTIME_NO_MALLOC and this counter together.
std::size_t allocations();

/// Counts the allocations made during its lifetime, and forbids Eigen's for as long.
class NoAllocationScope {
 public:
  NoAllocationScope();
  ~NoAllocationScope();
  NoAllocationScope(const NoAllocationScope&) = delete;
  NoAllocationScope& operator=(const NoAllocationScope&) = delete;
  std::size_t allocations() const;

 private:
  std::size_t start_;
};

}  // namespace latent::testing

#endif  // LATENT_TESTS_SUPPORT_ALLOCATION_COUNTER_HPP
