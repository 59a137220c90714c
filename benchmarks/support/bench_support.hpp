// What the MNIST benchmark programs share beside examples/mnist_support.hpp: a CSV file that
// is written row by row (a run stopped halfway keeps the rows it finished) and the squared
// error per test image. Not part of the library.
#ifndef LATENT_BENCHMARKS_SUPPORT_BENCH_SUPPORT_HPP
#define LATENT_BENCHMARKS_SUPPORT_BENCH_SUPPORT_HPP

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>

#include <latent/core/error.hpp>
#include <latent/core/types.hpp>

namespace bench {

/// A CSV file with a header line; add() writes one row and flushes it.
class Csv {
 public:
  Csv(const std::filesystem::path& path, const std::string& header) : path_(path) {
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    out_.open(path);
    out_ << header << '\n';
    check();
  }

  template <class... Fields>
  void add(const Fields&... fields) {
    std::string line;
    ((line += (line.empty() ? "" : ",") + text(fields)), ...);
    out_ << line << '\n' << std::flush;
    check();
  }

 private:
  template <class T>
  static std::string text(const T& value) {
    if constexpr (std::is_floating_point_v<T>) {
      char number[32];
      std::snprintf(number, sizeof number, "%.6g", static_cast<double>(value));
      return number;
    } else if constexpr (std::is_arithmetic_v<T>) {
      return std::to_string(value);
    } else {
      return std::string(value);  // our fields need no quoting
    }
  }

  void check() {
    if (!out_) throw latent::Error("cannot write '" + path_.string() + "'");
  }

  std::filesystem::path path_;
  std::ofstream out_;
};

/// Mean over images of the squared error summed over the image's pixels: the figure Hinton and
/// Salakhutdinov (2006) report for MNIST.
inline double squared_error_per_image(const latent::Matrix<float>& reconstruction,
                                      const latent::Matrix<float>& original) {
  return (reconstruction - original).cast<double>().squaredNorm() /
         static_cast<double>(original.cols());
}

}  // namespace bench

#endif  // LATENT_BENCHMARKS_SUPPORT_BENCH_SUPPORT_HPP
