#ifndef LATENT_IO_PNG_HPP
#define LATENT_IO_PNG_HPP

// Needs stb's stb_image_write.h (Debian: libstb-dev). When no other stb_image_write.h was
// included before this header, a private copy (static functions) is compiled into the
// translation unit; otherwise the includer's declarations are used, and the includer provides
// STB_IMAGE_WRITE_IMPLEMENTATION in one of its translation units as stb asks. A translation
// unit that compiles stb's implementation itself must include stb_image_write.h first.

#ifndef INCLUDE_STB_IMAGE_WRITE_H
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#if __has_include(<stb_image_write.h>)
#include <stb_image_write.h>
#else
#include <stb/stb_image_write.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_STATIC
#endif

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "latent/core/error.hpp"
#include "latent/core/types.hpp"

namespace latent::io {

/// How image values become grey levels.
enum class PixelScale {
  clamp,      ///< [0, 1] to black..white, values outside clamped: data and reconstructions
  per_image,  ///< each image's own minimum..maximum to black..white: weights, filters
};

struct GridOptions {
  Index columns = 10;                    ///< images per row of the grid
  Index padding = 1;                     ///< grey pixels between and around images
  Index zoom = 1;                        ///< each pixel drawn as zoom x zoom
  PixelScale scale = PixelScale::clamp;  ///< see PixelScale
};

/// Writes `images` (one per column, each height x width pixels in row-major order, as MNIST's)
/// to a greyscale PNG as a grid, row by row, `options.columns` to a row. Throws
/// std::invalid_argument on shapes that do not match or non-finite pixels, latent::Error when
/// the file cannot be written.
template <class Derived>
void write_image_grid(const std::filesystem::path& path, const Eigen::MatrixBase<Derived>& images,
                      Index height, Index width, const GridOptions& options = {}) {
  const std::string who = "latent::io::write_image_grid: ";
  if (height <= 0 || width <= 0 || images.rows() != height * width)
    throw std::invalid_argument(who + "images have " + std::to_string(images.rows()) +
                                " rows, expected height x width = " + std::to_string(height) +
                                " x " + std::to_string(width));
  if (images.cols() == 0) throw std::invalid_argument(who + "no images");
  if (options.columns <= 0 || options.padding < 0 || options.padding > 1024 ||
      options.zoom <= 0 || options.zoom > 64 || height > (1 << 16) || width > (1 << 16))
    throw std::invalid_argument(who + "columns must be positive, padding in [0, 1024], zoom in "
                                "[1, 64] and images at most 65536 pixels on a side");
  if (!images.allFinite()) throw std::invalid_argument(who + "images hold NaN or infinity");

  const Index count = images.cols();
  const Index columns = std::min(options.columns, count);
  const Index rows = (count + columns - 1) / columns;
  const Index pad = options.padding, zoom = options.zoom;
  const Index canvas_width = columns * (width * zoom + pad) + pad;
  const Index canvas_height = rows * (height * zoom + pad) + pad;
  // Each factor is bounded above, so these products cannot overflow; stb itself computes the
  // image's size in int, so the picture must stay far below 2^31 bytes.
  if (canvas_width > (1 << 16) || canvas_height > (1 << 16) || canvas_width * canvas_height > (1 << 28))
    throw std::invalid_argument(who + "the grid would be " + std::to_string(canvas_width) + " x " +
                                std::to_string(canvas_height) + " pixels, more than a PNG of "
                                "2^28 pixels; write fewer images per file");
  std::vector<std::uint8_t> canvas(static_cast<std::size_t>(canvas_width * canvas_height), 128);

  for (Index k = 0; k < count; ++k) {
    const auto image = images.col(k);
    double low = 0.0, high = 1.0;
    if (options.scale == PixelScale::per_image) {
      low = static_cast<double>(image.minCoeff());
      high = static_cast<double>(image.maxCoeff());
      if (high == low) high = low + 1.0;  // a flat image is drawn black, not divided by zero
    }
    const Index top = pad + (k / columns) * (height * zoom + pad);
    const Index left = pad + (k % columns) * (width * zoom + pad);
    for (Index y = 0; y < height * zoom; ++y)
      for (Index x = 0; x < width * zoom; ++x) {
        const double value =
            (static_cast<double>(image((y / zoom) * width + x / zoom)) - low) / (high - low);
        canvas[static_cast<std::size_t>((top + y) * canvas_width + left + x)] =
            static_cast<std::uint8_t>(std::clamp(value, 0.0, 1.0) * 255.0 + 0.5);
      }
  }
  if (!stbi_write_png(path.string().c_str(), static_cast<int>(canvas_width),
                      static_cast<int>(canvas_height), 1, canvas.data(),
                      static_cast<int>(canvas_width)))
    throw Error(who + "cannot write '" + path.string() + "'");
}

/// Writes originals above their reconstructions: rows of the grid alternate between
/// `columns` originals and the same `columns` reconstructed.
template <class D1, class D2>
void write_comparison(const std::filesystem::path& path, const Eigen::MatrixBase<D1>& originals,
                      const Eigen::MatrixBase<D2>& reconstructions, Index height, Index width,
                      Index columns = 10, Index zoom = 1) {
  if (originals.rows() != reconstructions.rows() || originals.cols() != reconstructions.cols())
    throw std::invalid_argument(
        "latent::io::write_comparison: originals are " + std::to_string(originals.rows()) + " x " +
        std::to_string(originals.cols()) + ", reconstructions " +
        std::to_string(reconstructions.rows()) + " x " + std::to_string(reconstructions.cols()));
  if (columns <= 0)
    throw std::invalid_argument("latent::io::write_comparison: columns must be positive");
  using S = typename D1::Scalar;
  const Index n = originals.cols();
  const Index rows = (n + columns - 1) / columns;
  // Missing cells of a last, partial row stay flat grey (0.5).
  Matrix<S> grid = Matrix<S>::Constant(originals.rows(), 2 * rows * columns, S(0.5));
  for (Index k = 0; k < n; ++k) {
    const Index row = k / columns, column = k % columns;
    grid.col(2 * row * columns + column) = originals.col(k);
    grid.col((2 * row + 1) * columns + column) = reconstructions.col(k).template cast<S>();
  }
  GridOptions options;
  options.columns = columns;
  options.zoom = zoom;
  write_image_grid(path, grid, height, width, options);
}

}  // namespace latent::io

#endif  // LATENT_IO_PNG_HPP
