// libFuzzer target for latent::io::read_idx (include/latent/io/idx.hpp).
//
// Each input is read as a file twice. First as it is: gzread tells gzip from plain data by the
// content, not the name, so inputs grown from the plain seeds explore the IDX parser and those
// grown from the gzip seeds the gzip framing (zlib is not instrumented: the fuzzer is guided
// by how read_idx reacts to what zlib reports, not by zlib's own branches). Then, unless it is gzip already,
// compressed: the IDX parser behind a valid gzip layer, which must give exactly what the plain
// file gave. An accepted plain file is also read by read_idx_images or read_idx_labels, which
// must agree. A refusal (latent::Error) is fine. A finding is a crash, a sanitizer report, a
// leak, a hang, any other exception, an accepted file read differently from its bytes, or a
// single allocation larger than twice the data the file holds plus 128 KiB.
//
// `latent_fuzz_idx -seed_corpus=DIR` writes the seed files of tests/corpus/idx/ into DIR.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <latent/core/error.hpp>
#include <latent/core/types.hpp>
#include <latent/io/idx.hpp>

#include "fuzz_support.hpp"

namespace {

using latent::fuzz::Bytes;
using latent::fuzz::fail;
using latent::io::IdxFile;

// What gzread delivers from the file, plain or gzip, before its end or an error: the data it
// actually holds. Read in 64 KiB requests; zlib drops at most the one that meets an error.
std::size_t delivered_bytes(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) fail("cannot reopen the scratch file");
  static unsigned char buffer[64 << 10];
  std::size_t total = 0;
  int got = 0;
  while ((got = gzread(file, buffer, sizeof buffer)) > 0) total += static_cast<std::size_t>(got);
  gzclose(file);
  return total;
}

// read_idx doubles its buffer as data arrives, from 64 KiB: twice the data plus the request
// zlib may drop and that first block bound every allocation, whatever the header claims.
std::optional<IdxFile> read_bounded(const std::filesystem::path& path) {
  const latent::fuzz::AllocationBound bound(2 * delivered_bytes(path) + (std::size_t{128} << 10));
  try {
    return latent::io::read_idx(path);
  } catch (const latent::Error&) {
    return std::nullopt;
  }
}

bool is_gzip(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

void write_gzip(const std::filesystem::path& path, const Bytes& bytes, const char* mode) {
  gzFile file = gzopen(path.c_str(), mode);
  if (file == nullptr) fail("cannot open a gzip file to write");
  const bool written = bytes.empty() || gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
                                            static_cast<int>(bytes.size());
  if (gzclose(file) != Z_OK || !written) fail("cannot write a gzip file");
}

// An accepted plain file: its header, dimensions and elements, exactly and nothing more.
void check_matches(const IdxFile& file, const std::uint8_t* data, std::size_t size) {
  if (size < 4) fail("read_idx accepted a file shorter than the IDX magic");
  const std::size_t rank = data[3];
  const std::size_t header = 4 + 4 * rank;
  bool same = size >= header && file.dimensions.size() == rank;
  std::size_t count = 1;
  for (std::size_t d = 0; same && d < rank; ++d) {
    const std::uint8_t* be = data + 4 + 4 * d;
    const std::size_t claimed = (std::size_t{be[0]} << 24) | (std::size_t{be[1]} << 16) |
                                (std::size_t{be[2]} << 8) | std::size_t{be[3]};
    same = static_cast<std::size_t>(file.dimensions[d]) == claimed;
    count *= claimed;
  }
  same = same && size - header == count && file.bytes.size() == count &&
         std::memcmp(file.bytes.data(), data + header, count) == 0;
  if (!same) fail("read_idx accepted a file but what it returned differs from the file's bytes");
}

// The typed readers on an accepted file: the shape and the values read_idx's bytes give.
void check_typed_readers(const IdxFile& file, const std::filesystem::path& path) {
  const std::vector<latent::Index>& dims = file.dimensions;
  bool same = true;
  if (dims.size() == 3) {
    const latent::Matrix<float> images = latent::io::read_idx_images<float>(path);
    same = images.rows() == dims[1] * dims[2] && images.cols() == dims[0];
    for (std::size_t i = 0; same && i < file.bytes.size(); ++i)
      same = images.data()[i] == static_cast<float>(file.bytes[i]) / 255.0f;
  } else if (dims.size() == 1) {
    const latent::Labels labels = latent::io::read_idx_labels(path);
    same = labels.size() == dims[0];
    for (std::size_t i = 0; same && i < file.bytes.size(); ++i)
      same = labels(static_cast<latent::Index>(i)) == file.bytes[i];
  }
  if (!same) fail("read_idx_images or read_idx_labels disagrees with read_idx");
}

Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& elements) {
  Bytes out = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), elements.begin(), elements.end());
  return out;
}

// Two 28 x 28 images (MNIST's shape: a ring and a bar), ten labels and the 2 x 2 x 3 file of
// the unit tests, each plain and gzip-compressed.
void write_seeds(const std::filesystem::path& dir) {
  Bytes pixels;
  for (int image = 0; image < 2; ++image)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const int r2 = (x - 14) * (x - 14) + (y - 14) * (y - 14);
        const bool ink = image == 0 ? r2 >= 36 && r2 <= 81 : x >= 12 && x <= 15 && y >= 4 && y <= 23;
        pixels.push_back(ink ? static_cast<std::uint8_t>(255 - 3 * (x + y)) : 0);
      }
  const Bytes labels = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
  const Bytes tiny = {0, 51, 102, 153, 204, 255, 255, 204, 153, 102, 51, 0};
  const std::pair<const char*, Bytes> seeds[] = {{"images", idx_bytes({2, 28, 28}, pixels)},
                                                 {"labels", idx_bytes({10}, labels)},
                                                 {"tiny", idx_bytes({2, 2, 3}, tiny)}};
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    latent::fuzz::write_file(dir / (std::string(name) + ".idx"), bytes);
    write_gzip(dir / (std::string(name) + ".idx.gz"), bytes, "wb9");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  return latent::fuzz::write_seeds_if_asked(*argc, *argv, write_seeds);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const latent::fuzz::ScratchFile scratch;
  const Bytes input(data, data + size);
  scratch.write(input);
  const std::optional<IdxFile> plain = read_bounded(scratch.path());
  if (is_gzip(data, size)) return 0;
  if (plain) {
    check_matches(*plain, data, size);
    check_typed_readers(*plain, scratch.path());
  }

  write_gzip(scratch.path(), input, "wb1");
  const std::optional<IdxFile> wrapped = read_bounded(scratch.path());
  if (plain.has_value() != wrapped.has_value() ||
      (plain && (plain->dimensions != wrapped->dimensions || plain->bytes != wrapped->bytes)))
    fail("read_idx reads the file and its gzip-compressed copy differently");
  return 0;
}
