#if LATENT_HAVE_STB

#include <latent/io/png.hpp>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

// Pictures are checked by reading them back with stb_image: size, padding and pixel values.

namespace {

struct Picture {
  int width = 0, height = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> pixels{nullptr, &stbi_image_free};
  int at(int x, int y) const { return pixels.get()[y * width + x]; }
};

Picture read_png(const std::filesystem::path& path) {
  Picture picture;
  int channels = 0;
  picture.pixels.reset(stbi_load(path.string().c_str(), &picture.width, &picture.height, &channels, 1));
  REQUIRE(picture.pixels);
  return picture;
}

}  // namespace

TEST_CASE("write_image_grid lays images out row by row with grey padding", "[io][png]") {
  latent::testing::TempDir dir;
  // Three 2 x 3 images: black, white, and a horizontal ramp 0, 0.5, 1 on both rows.
  latent::Matrix<float> images(6, 3);
  images.col(0).setZero();
  images.col(1).setOnes();
  images.col(2) << 0.0f, 0.5f, 1.0f, 0.0f, 0.5f, 1.0f;
  latent::io::GridOptions options;
  options.columns = 2;
  latent::io::write_image_grid(dir / "grid.png", images, 2, 3, options);

  const Picture picture = read_png(dir / "grid.png");
  CHECK(picture.width == 2 * (3 + 1) + 1);
  CHECK(picture.height == 2 * (2 + 1) + 1);
  CHECK(picture.at(0, 0) == 128);  // padding
  CHECK(picture.at(1, 1) == 0);    // image 0
  CHECK(picture.at(5, 1) == 255);  // image 1, same row of the grid
  CHECK(picture.at(1, 4) == 0);    // image 2, second row: the ramp
  CHECK(picture.at(2, 4) == 128);
  CHECK(picture.at(3, 5) == 255);
  CHECK(picture.at(5, 4) == 128);  // the empty last cell stays grey
}

TEST_CASE("write_image_grid clamps data to [0, 1] or stretches each image", "[io][png]") {
  latent::testing::TempDir dir;
  latent::Matrix<double> filter(4, 1);
  filter << -2.0, 0.0, 2.0, 4.0;
  latent::io::write_image_grid(dir / "clamped.png", filter, 1, 4);
  const Picture clamped = read_png(dir / "clamped.png");
  CHECK(clamped.at(1, 1) == 0);
  CHECK(clamped.at(4, 1) == 255);

  latent::io::GridOptions stretch;
  stretch.scale = latent::io::PixelScale::per_image;
  latent::io::write_image_grid(dir / "stretched.png", filter, 1, 4, stretch);
  const Picture stretched = read_png(dir / "stretched.png");
  CHECK(stretched.at(1, 1) == 0);
  CHECK(stretched.at(2, 1) == 85);  // (0 + 2) / 6 of the way
  CHECK(stretched.at(4, 1) == 255);
}

TEST_CASE("write_image_grid zooms each pixel to a square", "[io][png]") {
  latent::testing::TempDir dir;
  latent::Matrix<float> image(2, 1);
  image << 0.0f, 1.0f;  // 1 x 2: black, white
  latent::io::GridOptions options;
  options.zoom = 3;
  options.padding = 0;
  latent::io::write_image_grid(dir / "zoom.png", image, 1, 2, options);
  const Picture picture = read_png(dir / "zoom.png");
  REQUIRE(picture.width == 6);
  REQUIRE(picture.height == 3);
  CHECK(picture.at(2, 2) == 0);
  CHECK(picture.at(3, 0) == 255);
  options.zoom = 0;
  CHECK_THROWS_AS(latent::io::write_image_grid(dir / "zoom.png", image, 1, 2, options),
                  std::invalid_argument);
}

TEST_CASE("write_comparison puts each row of originals above its reconstructions", "[io][png]") {
  latent::testing::TempDir dir;
  const latent::Matrix<float> originals = latent::Matrix<float>::Ones(4, 3);
  const latent::Matrix<float> reconstructions = latent::Matrix<float>::Zero(4, 3);
  latent::io::write_comparison(dir / "pairs.png", originals, reconstructions, 2, 2, 2);
  const Picture picture = read_png(dir / "pairs.png");
  CHECK(picture.width == 2 * 3 + 1);
  CHECK(picture.height == 4 * 3 + 1);
  CHECK(picture.at(1, 1) == 255);   // grid row 0: originals 0, 1
  CHECK(picture.at(1, 4) == 0);     // grid row 1: their reconstructions
  CHECK(picture.at(1, 7) == 255);   // grid row 2: original 2
  CHECK(picture.at(4, 7) == 128);   // and an empty cell
  CHECK(picture.at(1, 10) == 0);    // grid row 3: reconstruction 2
}

TEST_CASE("write_image_grid refuses wrong shapes, non-finite pixels and unwritable paths",
          "[io][png]") {
  latent::testing::TempDir dir;
  latent::Matrix<float> images = latent::Matrix<float>::Zero(6, 2);
  CHECK_THROWS_WITH(latent::io::write_image_grid(dir / "a.png", images, 2, 2),
                    Catch::Contains("6 rows, expected height x width = 2 x 2"));
  CHECK_THROWS_AS(latent::io::write_image_grid(dir / "a.png", latent::Matrix<float>(6, 0), 2, 3),
                  std::invalid_argument);
  images(3, 1) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(latent::io::write_image_grid(dir / "a.png", images, 2, 3),
                    Catch::Contains("NaN or infinity"));
  images(3, 1) = 0.0f;
  CHECK_THROWS_WITH(latent::io::write_image_grid(dir / "no" / "such" / "dir.png", images, 2, 3),
                    Catch::Contains("cannot write"));
  CHECK_THROWS_AS(latent::io::write_comparison(dir / "b.png", images, latent::Matrix<float>(6, 3), 2, 3),
                  std::invalid_argument);
}

#endif  // LATENT_HAVE_STB
