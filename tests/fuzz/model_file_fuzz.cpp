// libFuzzer target for latent::io::load (include/latent/io/model_file.hpp).
//
// Each input is loaded into an 8-4-8 autoencoder in float and in double, as it is and, unless
// its last four bytes already are its CRC-32, with them made so: the checksum would otherwise
// stop nearly every mutation before the checks behind it (scalar type, architecture, parameter
// count). A refusal (latent::Error) must leave the model bit for bit as it was; a load that
// succeeds must give the model exactly the parameters stored before the checksum. A finding is
// also a crash, a sanitizer report, a leak, a hang, any other exception, or a single allocation
// larger than the file plus 64 KiB.
//
// `latent_fuzz_model_file -seed_corpus=DIR` writes the seed files of tests/corpus/model_file/
// into DIR.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <latent/activations.hpp>
#include <latent/core/error.hpp>
#include <latent/core/random.hpp>
#include <latent/core/types.hpp>
#include <latent/io/model_file.hpp>
#include <latent/layers/dense.hpp>
#include <latent/layers/sequential.hpp>
#include <latent/models/autoencoder.hpp>

#include "fuzz_support.hpp"

namespace {

using latent::fuzz::Bytes;
using latent::fuzz::fail;

template <class S>
auto make_model() {
  latent::Rng rng(8);
  return latent::Autoencoder(latent::Sequential{latent::Dense<S, latent::ReLU>(8, 4)},
                             latent::Sequential{latent::Dense<S, latent::Sigmoid>(4, 8)}, rng);
}

// One model per scalar type for the whole run; every input finds it as it was built.
template <class S>
auto& model() {
  static auto instance = make_model<S>();
  return instance;
}

template <class S>
void load_checked(const Bytes& file, const std::filesystem::path& path) {
  auto& target = model<S>();
  const latent::Vector<S> before = target.parameters();
  const std::size_t width = static_cast<std::size_t>(before.size()) * sizeof(S);
  bool loaded = true;
  {
    const latent::fuzz::AllocationBound bound(file.size() + (std::size_t{64} << 10));
    try {
      latent::io::load(target, path);
    } catch (const latent::Error&) {
      loaded = false;
    }
  }
  if (!loaded) {
    if (std::memcmp(target.parameters().data(), before.data(), width) != 0)
      fail("load refused the file but changed the model");
    return;
  }
  // The file stores little-endian scalars, as the hosts we fuzz on hold them.
  if (file.size() < width + 4 ||
      std::memcmp(target.parameters().data(), file.data() + file.size() - 4 - width, width) != 0)
    fail("load accepted the file but the model's parameters are not the file's");
  target.parameters() = before;
}

void load_both(const Bytes& file, const std::filesystem::path& path) {
  load_checked<float>(file, path);
  load_checked<double>(file, path);
}

void write_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  latent::io::save(model<float>(), dir / "autoencoder-8-4-8-float.bin");
  latent::io::save(model<double>(), dir / "autoencoder-8-4-8-double.bin");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  return latent::fuzz::write_seeds_if_asked(*argc, *argv, write_seeds);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const latent::fuzz::ScratchFile scratch;
  Bytes file(data, data + size);
  scratch.write(file);
  load_both(file, scratch.path());
  if (size < 4) return 0;

  const std::size_t body = size - 4;
  const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, file.data(), static_cast<uInt>(body)));
  bool changed = false;
  for (std::size_t b = 0; b < 4; ++b) {
    const auto byte = static_cast<std::uint8_t>(crc >> (8 * b));
    changed = changed || file[body + b] != byte;
    file[body + b] = byte;
  }
  if (!changed) return 0;
  scratch.write(file);
  load_both(file, scratch.path());
  return 0;
}
