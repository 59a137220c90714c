#ifndef LATENT_TESTS_FUZZ_FUZZ_SUPPORT_HPP
#define LATENT_TESTS_FUZZ_FUZZ_SUPPORT_HPP

// What the fuzz targets share: a scratch file for the readers, which take paths; a bound on
// the largest single allocation a call may make; and the way to report a finding.

#include <sanitizer/allocator_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace latent::fuzz {

using Bytes = std::vector<std::uint8_t>;

/// Reports a finding and aborts: libFuzzer catches the signal and keeps the input.
[[noreturn]] inline void fail(const char* finding) {
  std::fprintf(stderr, "==latent fuzz== %s\n", finding);
  __sanitizer_print_stack_trace();
  std::abort();
}

/// Writes `bytes` to `path`, replacing it.
inline void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) fail("cannot open a file to write");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  if (std::fclose(file) != 0 || !written) fail("cannot write a file");
}

/// A file of this process's own in the temporary directory (TMPDIR), removed at exit.
class ScratchFile {
 public:
  ScratchFile() {
    std::string name = (std::filesystem::temp_directory_path() / "latent-fuzz-XXXXXX").string();
    const int descriptor = ::mkstemp(name.data());
    if (descriptor < 0) fail("cannot create a scratch file in the temporary directory");
    ::close(descriptor);
    path_ = name;
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }

  const std::filesystem::path& path() const { return path_; }
  void write(const Bytes& bytes) const { write_file(path_, bytes); }

 private:
  std::filesystem::path path_;
};

namespace detail {

inline std::size_t allocation_limit = 0;  // 0: not watching

// Runs inside malloc, after the block was allocated: the report carries the allocating stack.
inline void on_malloc(const volatile void*, std::size_t size) {
  if (allocation_limit == 0 || size <= allocation_limit) return;
  std::fprintf(stderr, "==latent fuzz== a single allocation of %zu bytes; this input allows %zu\n",
               size, allocation_limit);
  allocation_limit = 0;
  fail("allocation beyond what the file holds");
}
inline void on_free(const volatile void*) {}

}  // namespace detail

/// During its lifetime, any single allocation larger than `limit` bytes is a finding. The
/// targets derive the limit from what the input actually holds, which libFuzzer's
/// -malloc_limit_mb, one number for every input, cannot do.
class AllocationBound {
 public:
  explicit AllocationBound(std::size_t limit) {
    static const bool installed =
        __sanitizer_install_malloc_and_free_hooks(&detail::on_malloc, &detail::on_free) != 0;
    if (!installed) fail("cannot install the malloc hook");
    detail::allocation_limit = limit;
  }
  AllocationBound(const AllocationBound&) = delete;
  AllocationBound& operator=(const AllocationBound&) = delete;
  ~AllocationBound() { detail::allocation_limit = 0; }
};

/// The LLVMFuzzerInitialize of both targets: with `-seed_corpus=DIR` on the command line, the
/// target writes its seed files into DIR with `write_seeds` and exits instead of fuzzing.
template <class WriteSeeds>
int write_seeds_if_asked(int argc, char** argv, WriteSeeds write_seeds) {
  const std::string flag = "-seed_corpus=";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind(flag, 0) == 0) {
      write_seeds(std::filesystem::path(argv[i] + flag.size()));
      std::exit(0);
    }
  return 0;
}

}  // namespace latent::fuzz

#endif  // LATENT_TESTS_FUZZ_FUZZ_SUPPORT_HPP
