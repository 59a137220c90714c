#ifndef LATENT_IO_IDX_HPP
#define LATENT_IO_IDX_HPP

// Needs zlib (link ZLIB::ZLIB).

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/types.hpp"

namespace latent::io {

/// The contents of an IDX file (the format of MNIST, http://yann.lecun.com/exdb/mnist/): its
/// dimensions, outermost first, and its elements as unsigned bytes in row-major order.
struct IdxFile {
  std::vector<Index> dimensions;
  std::vector<std::uint8_t> bytes;
};

/// Largest element count read_idx accepts (1 GiB of bytes): a header claiming more is refused
/// before anything is allocated for it.
inline constexpr std::uint64_t max_idx_elements = std::uint64_t{1} << 30;

namespace detail {

// gzread reads gzip-compressed and plain files alike, so one reader serves both.
class GzipReader {
 public:
  explicit GzipReader(const std::filesystem::path& path)
      : path_(path), file_(nullptr, &gzclose) {
    std::error_code error;
    const std::filesystem::file_status status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) fail("no such file");
    if (!std::filesystem::is_regular_file(status)) fail("not a regular file");
    file_.reset(gzopen(path.string().c_str(), "rb"));
    if (!file_) fail("cannot open it");
  }

  /// Fills [data, data + size) or throws, naming what was being read.
  void read(void* data, std::size_t size, const char* what) {
    auto* out = static_cast<unsigned char*>(data);
    while (size > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size, 1u << 30));
      const int got = gzread(file_.get(), out, chunk);
      if (got < 0) fail("corrupt compressed data while reading " + std::string(what));
      if (got == 0) fail(std::string("truncated: the file ends inside the ") + what);
      out += got;
      size -= static_cast<std::size_t>(got);
    }
  }

  /// True when nothing follows. Reading on also checks gzip's trailer (CRC-32 and length); zlib
  /// reports a stream cut short only as Z_BUF_ERROR, which gzread itself lets pass.
  bool at_end() {
    unsigned char extra;
    const int got = gzread(file_.get(), &extra, 1);
    int status = Z_OK;
    gzerror(file_.get(), &status);
    if (got < 0 || status == Z_BUF_ERROR) fail("corrupt or truncated compressed data");
    return got == 0;
  }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("latent::io::read_idx: '" + path_.string() + "': " + problem);
  }

 private:
  std::filesystem::path path_;
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file_;
};

/// The size read_idx's element buffer grows to once it holds `have` of the `count` elements
/// the header claims: twice `have`, at least 64 KiB, at most `count`.
inline std::size_t idx_buffer_size(std::size_t have, std::uint64_t count) {
  constexpr std::size_t first = std::size_t{64} << 10;
  return static_cast<std::size_t>(std::min<std::uint64_t>(count, std::max(first, 2 * have)));
}

}  // namespace detail

/// Reads an IDX file of unsigned bytes (type 0x08), plain or gzip-compressed. Checks the magic
/// number, the type, the dimensions and that the file holds exactly the elements its header
/// announces (gzip's CRC-32 and length too); any problem throws latent::Error naming the file
/// and the problem. One limit, zlib's: bytes after a complete gzip member that do not start
/// another member are ignored.
inline IdxFile read_idx(const std::filesystem::path& path) {
  detail::GzipReader in(path);
  std::uint8_t magic[4];
  in.read(magic, 4, "header");
  if (magic[0] != 0 || magic[1] != 0)
    in.fail("not an IDX file (the magic number must start with two zero bytes)");
  if (magic[2] != 0x08) {
    const char* hex = "0123456789abcdef";
    in.fail(std::string("element type 0x") + hex[magic[2] >> 4] + hex[magic[2] & 15] +
            " is not supported (only 0x08, unsigned byte)");
  }
  if (magic[3] == 0) in.fail("the header declares no dimensions");

  IdxFile file;
  std::uint64_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    std::uint8_t be[4];
    in.read(be, 4, "dimensions");
    const std::uint64_t size = (std::uint64_t{be[0]} << 24) | (std::uint64_t{be[1]} << 16) |
                               (std::uint64_t{be[2]} << 8) | std::uint64_t{be[3]};
    if (size == 0) in.fail("dimension " + std::to_string(d) + " is zero");
    count *= size;  // cannot overflow: checked against the cap at every step
    if (count > max_idx_elements)
      in.fail("the header claims more than " + std::to_string(max_idx_elements) + " elements");
    file.dimensions.push_back(static_cast<Index>(size));
  }
  // The buffer grows with the data actually read, doubling: a file claiming more than it holds
  // costs at most twice what it holds (or 64 KiB), never the claim; a valid file costs about
  // one extra copy of itself.
  while (file.bytes.size() < count) {
    const std::size_t start = file.bytes.size();
    const std::size_t grown = detail::idx_buffer_size(start, count);
    file.bytes.reserve(grown);  // first: resize alone may allocate twice the old size
    file.bytes.resize(grown);
    in.read(file.bytes.data() + start, grown - start, "elements");
  }
  if (!in.at_end()) in.fail("longer than its header says (trailing data)");
  return file;
}

/// Reads an IDX file of images (dimensions n x height x width) into a (height * width) x n
/// matrix, one image per column in row-major pixel order, each byte scaled by 1/255 to [0, 1].
template <class S = float>
Matrix<S> read_idx_images(const std::filesystem::path& path) {
  IdxFile file = read_idx(path);
  if (file.dimensions.size() != 3)
    throw Error("latent::io::read_idx_images: '" + path.string() + "' has " +
                std::to_string(file.dimensions.size()) + " dimensions, images need 3");
  const Index n = file.dimensions[0];
  const Index pixels = file.dimensions[1] * file.dimensions[2];
  const Eigen::Map<const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>> bytes(
      file.bytes.data(), pixels, n);
  return bytes.cast<S>() / S(255);
}

/// Reads an IDX file of labels (one dimension) into a row of integers.
inline Labels read_idx_labels(const std::filesystem::path& path) {
  IdxFile file = read_idx(path);
  if (file.dimensions.size() != 1)
    throw Error("latent::io::read_idx_labels: '" + path.string() + "' has " +
                std::to_string(file.dimensions.size()) + " dimensions, labels need 1");
  Labels labels(static_cast<Index>(file.bytes.size()));
  for (Index i = 0; i < labels.size(); ++i) labels(i) = file.bytes[static_cast<std::size_t>(i)];
  return labels;
}

}  // namespace latent::io

#endif  // LATENT_IO_IDX_HPP
