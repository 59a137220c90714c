#ifndef LATENT_TESTS_SUPPORT_TEMP_DIR_HPP
#define LATENT_TESTS_SUPPORT_TEMP_DIR_HPP

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace latent::testing {

/// A fresh folder under the system's temporary directory, removed with its contents at scope
/// exit. Unique per process and per instance, so tests run in parallel do not meet.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("latent-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace latent::testing

#endif  // LATENT_TESTS_SUPPORT_TEMP_DIR_HPP
