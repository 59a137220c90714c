#ifndef LATENT_DETAIL_PATCHES_HPP
#define LATENT_DETAIL_PATCHES_HPP

// IWYU pragma: private, include "latent/latent.hpp"

#include <algorithm>

#include "latent/core/types.hpp"
#include "latent/layers/image.hpp"

namespace latent::detail {

// A convolution as one GEMM over the whole batch (the im2col lowering). With q window
// positions, n images and a patch of p = channels * size^2 values:
//
//   patches P    (q n x p)   P(t + q j, (c size + u) size + v) = image j at (c, y stride + u -
//                            padding, x stride + v - padding), 0 in the padding; t = y cols + x
//   per position (q n x C)   G = P K, K (p x C): one column of kernel weights per out channel
//   per sample   (C q x n)   the layer's output: G's rows of image j, channel-major
//
// P's columns are long runs over the positions of one image, so building P is a strided copy
// (a plain one at stride 1), and the product has the whole batch in its rows. Each function
// below has its adjoint beside it: backward runs the same maps in reverse.

/// The positions x in [0, count) whose x stride + offset falls in [0, extent).
struct Span {
  Index begin, end;
};
inline Span inside(Index offset, Index stride, Index extent, Index count) {
  const Index begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const Index last = extent - 1 - offset;  // x stride <= last
  const Index end = last < 0 ? 0 : std::min(count, last / stride + 1);
  return {begin, std::max(begin, end)};
}

/// Walks P one run of `w.cols` entries at a time (window row y of image j in patch column
/// `column`, starting at row `line` of P). Before the runs of a column it calls
/// begin_column(column, padded), `padded` when some of its windows see padding. Then for each
/// window row that sees the image it calls row(column, line, j, first, xs): xs are the window
/// columns inside the image, `first` the index in image j's column of the value under window
/// (y, xs.begin). Window rows that see only padding get no call.
template <class BeginColumn, class Row>
void for_each_patch_row(const Windows& w, Index n, BeginColumn&& begin_column, Row&& row) {
  const Index width = w.image.width, plane = w.image.pixels(), q = w.positions();
  for (Index c = 0; c < w.image.channels; ++c)
    for (Index u = 0; u < w.size; ++u) {
      const Span ys = inside(u - w.padding, w.stride, w.image.height, w.rows);
      for (Index v = 0; v < w.size; ++v) {
        const Span xs = inside(v - w.padding, w.stride, width, w.cols);
        const Index column = (c * w.size + u) * w.size + v;
        begin_column(column, ys.end - ys.begin < w.rows || xs.end - xs.begin < w.cols);
        if (xs.begin == xs.end) continue;
        for (Index j = 0; j < n; ++j)
          for (Index y = ys.begin; y < ys.end; ++y) {
            const Index first = c * plane + (y * w.stride + u - w.padding) * width +
                                xs.begin * w.stride + v - w.padding;
            row(column, j * q + y * w.cols, j, first, xs);
          }
      }
    }
}

/// im2col: P (positions n x patch_size) from X (image size x n).
template <class S>
void gather_patches(const Windows& w, const ConstMatrixRef<S>& X, MatrixRef<S> P) {
  const Index stride = w.stride;
  for_each_patch_row(
      w, X.cols(),
      // A column with padding in it is zeroed whole, in one pass: zeroing around each run
      // took a call to memset per run, about a tenth of a convolutional step.
      [&](Index column, bool padded) {
        if (padded) P.col(column).setZero();
      },
      [&](Index column, Index line, Index j, Index first, Span xs) {
        S* out = P.data() + column * P.outerStride() + line;
        const S* in = X.data() + j * X.outerStride() + first;
        for (Index x = xs.begin; x < xs.end; ++x) out[x] = in[(x - xs.begin) * stride];
      });
}

/// col2im, the adjoint of gather_patches: X = 0, then every entry of P added to the image
/// value it was gathered from (overlapping windows sum).
template <class S>
void scatter_patches(const Windows& w, const ConstMatrixRef<S>& P, MatrixRef<S> X) {
  X.setZero();
  const Index stride = w.stride;
  for_each_patch_row(
      w, X.cols(), [](Index, bool) {},
      [&](Index column, Index line, Index j, Index first, Span xs) {
        const S* in = P.data() + column * P.outerStride() + line;
        S* out = X.data() + j * X.outerStride() + first;
        for (Index x = xs.begin; x < xs.end; ++x) out[(x - xs.begin) * stride] += in[x];
      });
}

/// G (q n x channels) from Y (channels q x n): image j's channel c moves from rows [c q, c q +
/// q) of column j to rows [j q, j q + q) of column c.
template <class S>
void samples_to_positions(const ConstMatrixRef<S>& Y, Index channels, MatrixRef<S> G) {
  const Index q = Y.rows() / channels;
  for (Index j = 0; j < Y.cols(); ++j)
    for (Index c = 0; c < channels; ++c)
      G.col(c).segment(j * q, q) = Y.col(j).segment(c * q, q);
}

/// The inverse of samples_to_positions.
template <class S>
void positions_to_samples(const ConstMatrixRef<S>& G, MatrixRef<S> Y) {
  const Index channels = G.cols(), q = Y.rows() / channels;
  for (Index j = 0; j < Y.cols(); ++j)
    for (Index c = 0; c < channels; ++c)
      Y.col(j).segment(c * q, q) = G.col(c).segment(j * q, q);
}

/// The inverse of samples_to_positions, adding b(c) to channel c on the way: Y = G + b.
template <class S, class Bias>
void positions_to_samples(const ConstMatrixRef<S>& G, const Bias& b, MatrixRef<S> Y) {
  const Index channels = G.cols(), q = Y.rows() / channels;
  for (Index j = 0; j < Y.cols(); ++j)
    for (Index c = 0; c < channels; ++c)
      Y.col(j).segment(c * q, q).array() = G.col(c).segment(j * q, q).array() + b(c);
}

}  // namespace latent::detail

#endif  // LATENT_DETAIL_PATCHES_HPP
