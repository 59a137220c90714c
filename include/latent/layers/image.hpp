#ifndef LATENT_LAYERS_IMAGE_HPP
#define LATENT_LAYERS_IMAGE_HPP

#include <stdexcept>
#include <string>

#include "latent/core/types.hpp"

namespace latent {

/// The shape of one image: `channels` planes of `height` rows and `width` columns.
///
/// A batch of images is a matrix like any other batch, one image per column. Value (c, y, x) of
/// an image is row (c * height + y) * width + x of its column: channel-major, then rows, then
/// columns, the order of PyTorch's NCHW tensors. An MNIST column of 784 pixels is the image
/// {1, 28, 28} as it stands.
struct ImageShape {
  Index channels = 0;
  Index height = 0;
  Index width = 0;

  Index size() const noexcept { return channels * height * width; }
  Index pixels() const noexcept { return height * width; }

  friend bool operator==(const ImageShape& a, const ImageShape& b) noexcept {
    return a.channels == b.channels && a.height == b.height && a.width == b.width;
  }
  friend bool operator!=(const ImageShape& a, const ImageShape& b) noexcept { return !(a == b); }
};

/// "16x14x14": channels x height x width.
inline std::string to_string(const ImageShape& shape) {
  return std::to_string(shape.channels) + "x" + std::to_string(shape.height) + "x" +
         std::to_string(shape.width);
}

/// A square window that slides over an image: `size` x `size` values, `stride` apart, over the
/// image padded with `padding` zeros on every side (for transposed convolutions,
/// `output_padding` extra rows and columns at the bottom and right of the output).
///
/// Right: `Conv2d<float, ReLU>({1, 28, 28}, 16, Kernel(3).stride(2).padding(1))`
class Kernel {
 public:
  explicit Kernel(Index size) : size_(size) {}

  Index size() const noexcept { return size_; }
  Index stride() const noexcept { return stride_; }
  Index padding() const noexcept { return padding_; }
  Index output_padding() const noexcept { return output_padding_; }

  Kernel stride(Index value) const { return with(&Kernel::stride_, value); }
  Kernel padding(Index value) const { return with(&Kernel::padding_, value); }
  Kernel output_padding(Index value) const { return with(&Kernel::output_padding_, value); }

  /// "kernel 3, stride 2, padding 1" (output padding only when there is some).
  std::string describe() const {
    std::string text = "kernel " + std::to_string(size_) + ", stride " + std::to_string(stride_) +
                       ", padding " + std::to_string(padding_);
    if (output_padding_ != 0) text += ", output padding " + std::to_string(output_padding_);
    return text;
  }

 private:
  Kernel with(Index Kernel::*field, Index value) const {
    Kernel copy = *this;
    copy.*field = value;
    return copy;
  }

  Index size_;
  Index stride_ = 1;
  Index padding_ = 0;
  Index output_padding_ = 0;
};

namespace detail {

/// The positions of a kernel's windows on an image: `rows` x `cols` of them, each covering
/// `kernel.size()`^2 values of every channel.
struct Windows {
  ImageShape image;
  Index size = 1, stride = 1, padding = 0;
  Index rows = 0, cols = 0;

  Index positions() const noexcept { return rows * cols; }
  /// Values under one window, all channels: the length of one im2col patch.
  Index patch_size() const noexcept { return image.channels * size * size; }
};

/// Refuses a shape with a non-positive extent, naming the layer.
inline void check_image(const ImageShape& shape, const std::string& who) {
  if (shape.channels <= 0 || shape.height <= 0 || shape.width <= 0)
    throw std::invalid_argument(who + ": image shape " + to_string(shape) +
                                " must be positive in every extent");
}

/// The windows of `kernel` on `image`, (extent + 2 padding - size) / stride + 1 per axis, or an
/// exception naming `who` if the kernel is malformed or does not fit the padded image.
inline Windows windows(const ImageShape& image, const Kernel& kernel, const std::string& who) {
  check_image(image, who);
  if (kernel.size() <= 0 || kernel.stride() <= 0 || kernel.padding() < 0)
    throw std::invalid_argument(who + ": " + kernel.describe() +
                                ": size and stride must be positive, padding non-negative");
  const Index padded_height = image.height + 2 * kernel.padding();
  const Index padded_width = image.width + 2 * kernel.padding();
  if (kernel.size() > padded_height || kernel.size() > padded_width)
    throw std::invalid_argument(who + ": " + kernel.describe() + " does not fit the " +
                                to_string(image) + " image");
  Windows w;
  w.image = image;
  w.size = kernel.size();
  w.stride = kernel.stride();
  w.padding = kernel.padding();
  w.rows = (padded_height - w.size) / w.stride + 1;
  w.cols = (padded_width - w.size) / w.stride + 1;
  return w;
}

}  // namespace detail
}  // namespace latent

#endif  // LATENT_LAYERS_IMAGE_HPP
