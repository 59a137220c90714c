#include "support/allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

#include <Eigen/Core>

namespace {
std::atomic<std::size_t> count{0};
}

void* operator new(std::size_t size) {
  count.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace latent::testing {

std::size_t allocations() { return count.load(std::memory_order_relaxed); }

NoAllocationScope::NoAllocationScope() : start_(testing::allocations()) {
  Eigen::internal::set_is_malloc_allowed(false);
}
NoAllocationScope::~NoAllocationScope() { Eigen::internal::set_is_malloc_allowed(true); }
std::size_t NoAllocationScope::allocations() const { return testing::allocations() - start_; }

}  // namespace latent::testing
