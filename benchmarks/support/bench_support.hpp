// What the benchmark programs share beside examples/mnist_support.hpp: a CSV file that is
// written row by row (a run stopped halfway keeps the rows it finished), the squared error per
// test image, the learning rate of a run with a time budget, peak memory, a median, and the
// seconds of a block of work. Not part of the library.
#ifndef LATENT_BENCHMARKS_SUPPORT_BENCH_SUPPORT_HPP
#define LATENT_BENCHMARKS_SUPPORT_BENCH_SUPPORT_HPP

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

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

/// Cosine annealing (Loshchilov and Hutter, 2017) from base to base / 100 over a time budget
/// rather than a number of epochs, since how many epochs fit depends on the machine and its
/// load. progress: the seconds spent over the budget's; held at base / 100 past 1.
inline double annealed_rate(double base, double progress) {
  const double minimum = base / 100;
  const double pi = 3.14159265358979323846;
  return minimum + (base - minimum) * 0.5 * (1.0 + std::cos(pi * std::min(progress, 1.0)));
}

/// Peak resident memory of this process so far, MiB (ru_maxrss is in KiB on Linux).
inline double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

/// The median of `values`: the middle one, or the mean of the two middle ones; NaN when empty.
inline double median(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

/// Seconds that `times` calls of `work` take, back to back.
template <class Work>
double seconds_of(int times, Work&& work) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < times; ++i) work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace bench

#endif  // LATENT_BENCHMARKS_SUPPORT_BENCH_SUPPORT_HPP
