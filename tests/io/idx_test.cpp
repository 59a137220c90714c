#if LATENT_HAVE_ZLIB

#include <latent/io/idx.hpp>

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

// The IDX reader against files written here byte by byte: what a valid file holds, and the
// exception (never a crash, never a read past the data) for each way a file can be wrong.

namespace {

using latent::Error;
using latent::io::read_idx;
using Bytes = std::vector<std::uint8_t>;

// An IDX header of unsigned bytes with the given dimensions, then the elements.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& elements) {
  Bytes out = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), elements.begin(), elements.end());
  return out;
}

void write_raw(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::filesystem::path& path, const Bytes& bytes) {
  gzFile file = gzopen(path.string().c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

Bytes read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// Two 2 x 3 images with pixel values 0, 51, ..., 255 and back.
const Bytes kPixels = {0, 51, 102, 153, 204, 255, 255, 204, 153, 102, 51, 0};

std::string message_of(const std::filesystem::path& path) {
  try {
    read_idx(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no exception";
}

}  // namespace

TEST_CASE("read_idx reads plain and gzip-compressed files alike", "[io][idx]") {
  latent::testing::TempDir dir;
  const Bytes file = idx_bytes({2, 2, 3}, kPixels);
  write_raw(dir / "images.idx", file);
  write_gzip(dir / "images.idx.gz", file);
  for (const char* name : {"images.idx", "images.idx.gz"}) {
    const latent::io::IdxFile idx = read_idx(dir / name);
    CHECK(idx.dimensions == std::vector<latent::Index>{2, 2, 3});
    CHECK(idx.bytes == kPixels);
  }
}

TEST_CASE("read_idx_images puts one image per column, row-major, scaled to [0, 1]", "[io][idx]") {
  latent::testing::TempDir dir;
  write_gzip(dir / "images.gz", idx_bytes({2, 2, 3}, kPixels));
  const latent::Matrix<double> images = latent::io::read_idx_images<double>(dir / "images.gz");
  REQUIRE(images.rows() == 6);
  REQUIRE(images.cols() == 2);
  CHECK(images(0, 0) == 0.0);
  CHECK(images(1, 0) == Approx(0.2));
  CHECK(images(5, 0) == 1.0);
  CHECK(images(0, 1) == 1.0);
  CHECK(images(5, 1) == 0.0);
}

TEST_CASE("read_idx_labels reads a one-dimensional file into integers", "[io][idx]") {
  latent::testing::TempDir dir;
  write_raw(dir / "labels", idx_bytes({4}, {7, 2, 1, 0}));
  const latent::Labels labels = latent::io::read_idx_labels(dir / "labels");
  CHECK(labels == (latent::Labels(4) << 7, 2, 1, 0).finished());
  CHECK_THROWS_WITH(latent::io::read_idx_images<float>(dir / "labels"),
                    Catch::Contains("1 dimensions, images need 3"));
  write_raw(dir / "images", idx_bytes({2, 2, 3}, kPixels));
  CHECK_THROWS_WITH(latent::io::read_idx_labels(dir / "images"),
                    Catch::Contains("3 dimensions, labels need 1"));
}

TEST_CASE("read_idx refuses a malformed header, naming the file and the problem", "[io][idx]") {
  latent::testing::TempDir dir;
  const auto refuse = [&](const Bytes& bytes, const std::string& problem) {
    write_raw(dir / "bad", bytes);
    const std::string message = message_of(dir / "bad");
    CHECK_THAT(message, Catch::Contains(problem) && Catch::Contains((dir / "bad").string()));
  };
  refuse({1, 0, 8, 1, 0, 0, 0, 1, 0}, "not an IDX file");
  refuse({0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "element type 0x0d is not supported");
  refuse({0, 0, 8, 0}, "declares no dimensions");
  refuse(idx_bytes({2, 0, 3}, {}), "dimension 1 is zero");
  refuse(idx_bytes({60000, 28, 28}, {1, 2, 3}), "truncated: the file ends inside the elements");
  refuse(idx_bytes({2}, {1, 2, 3}), "trailing data");
  CHECK_THAT(message_of(dir / "missing"), Catch::Contains("no such file"));
  CHECK_THAT(message_of(dir.path()), Catch::Contains("not a regular file"));
}

TEST_CASE("read_idx refuses a header claiming more than 2^30 elements before allocating",
          "[io][idx]") {
  latent::testing::TempDir dir;
  write_raw(dir / "huge", idx_bytes({0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
  CHECK_THAT(message_of(dir / "huge"), Catch::Contains("claims more than 1073741824 elements"));
  write_raw(dir / "just-over", idx_bytes({1u << 15, 1u << 15, 2}, {}));
  CHECK_THAT(message_of(dir / "just-over"), Catch::Contains("claims more than"));
}

TEST_CASE("read_idx's buffer grows with the data read, not with the header's claim",
          "[io][idx]") {
  // Twice what it holds, from 64 KiB, up to the claim: a file holding D bytes of elements never
  // costs a block over max(2 D, 64 KiB), whatever its header says. The fuzz target
  // tests/fuzz/idx_fuzz.cpp checks the allocations themselves.
  using latent::io::detail::idx_buffer_size;
  const std::uint64_t claim = latent::io::max_idx_elements;
  CHECK(idx_buffer_size(0, claim) == std::size_t{64} << 10);
  CHECK(idx_buffer_size(0, 12) == 12);
  for (std::size_t have = std::size_t{64} << 10; have < claim; have *= 2)
    CHECK(idx_buffer_size(have, claim) == 2 * have);
  CHECK(idx_buffer_size(700000, 1000000) == 1000000);

  // Through several growth steps: a gzip file claiming 2^30 elements that holds 300000 is
  // refused as truncated; one holding what it claims is read with no spare capacity.
  latent::testing::TempDir dir;
  const Bytes elements(300000, 7);
  write_gzip(dir / "claims-more.gz", idx_bytes({1u << 10, 1u << 10, 1u << 10}, elements));
  CHECK_THAT(message_of(dir / "claims-more.gz"), Catch::Contains("truncated"));
  write_gzip(dir / "exact.gz", idx_bytes({300000}, elements));
  const latent::io::IdxFile exact = read_idx(dir / "exact.gz");
  CHECK(exact.bytes == elements);
  CHECK(exact.bytes.capacity() == exact.bytes.size());
}

TEST_CASE("read_idx refuses a file cut at any byte, plain or compressed", "[io][idx]") {
  latent::testing::TempDir dir;
  const Bytes file = idx_bytes({2, 2, 3}, kPixels);
  write_gzip(dir / "whole.gz", file);
  const Bytes gzip = read_all(dir / "whole.gz");
  for (std::size_t size = 0; size < file.size(); ++size) {
    INFO("plain, first " << size << " bytes");
    write_raw(dir / "cut", Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(size)));
    CHECK_THROWS_AS(read_idx(dir / "cut"), Error);
  }
  for (std::size_t size = 1; size < gzip.size(); ++size) {
    INFO("gzip, first " << size << " bytes");
    write_raw(dir / "cut.gz", Bytes(gzip.begin(), gzip.begin() + static_cast<std::ptrdiff_t>(size)));
    CHECK_THROWS_AS(read_idx(dir / "cut.gz"), Error);
  }
}

TEST_CASE("read_idx refuses a compressed file whose data or checksum was altered", "[io][idx]") {
  latent::testing::TempDir dir;
  write_gzip(dir / "whole.gz", idx_bytes({2, 2, 3}, kPixels));
  const Bytes gzip = read_all(dir / "whole.gz");
  // Every bit after gzip's 10-byte header, in the deflate data and in the CRC-32 and length
  // trailer: a flip is refused, or was in the padding after the last deflate block and the
  // file reads exactly as before.
  const latent::io::IdxFile original = read_idx(dir / "whole.gz");
  int refused = 0, identical = 0;
  for (std::size_t at = 10; at < gzip.size(); ++at)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes altered = gzip;
      altered[at] ^= static_cast<std::uint8_t>(1 << bit);
      write_raw(dir / "altered.gz", altered);
      INFO("bit " << bit << " of byte " << at << " flipped");
      try {
        const latent::io::IdxFile read = read_idx(dir / "altered.gz");
        CHECK(read.dimensions == original.dimensions);
        CHECK(read.bytes == original.bytes);
        ++identical;
      } catch (const Error&) {
        ++refused;
      }
    }
  CHECK(identical < 8);  // at most the padding bits of one byte
  CHECK(refused > 8 * static_cast<int>(gzip.size() - 11));
}

#endif  // LATENT_HAVE_ZLIB
