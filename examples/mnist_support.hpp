// What the MNIST examples share: loading the data with a useful message, a stopwatch, and a
// flat metrics.json writer. Not part of the library.
#ifndef LATENT_EXAMPLES_MNIST_SUPPORT_HPP
#define LATENT_EXAMPLES_MNIST_SUPPORT_HPP

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <latent/io/mnist.hpp>

namespace examples {

inline latent::io::Mnist<float> load_mnist_or_explain() {
  const std::filesystem::path dir = latent::io::mnist_directory();
  std::cerr << "loading MNIST from " << dir.string() << '\n';
  return latent::io::load_mnist<float>(dir);
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Mean over all pixels of (reconstruction - original)^2.
inline double mse_per_pixel(const latent::Matrix<float>& reconstruction,
                            const latent::Matrix<float>& original) {
  return (reconstruction - original).cast<double>().array().square().mean();
}

/// A flat JSON object of strings and numbers, written in the order given.
class Metrics {
 public:
  void add(const std::string& key, std::string value) { entries_.emplace_back(key, std::move(value)); }
  void add(const std::string& key, double value) { entries_.emplace_back(key, value); }

  void write(const std::filesystem::path& path) const {
    std::ostringstream json;
    json << "{\n";
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      json << "  \"" << entries_[i].first << "\": ";
      if (const auto* text = std::get_if<std::string>(&entries_[i].second)) {
        json << '"' << *text << '"';  // our keys and values need no escaping
      } else if (const double value = std::get<double>(entries_[i].second); std::isfinite(value)) {
        char number[32];
        std::snprintf(number, sizeof number, "%.9g", value);
        json << number;
      } else {
        json << "null";  // JSON has no NaN or infinity
      }
      json << (i + 1 < entries_.size() ? ",\n" : "\n");
    }
    json << "}\n";
    std::ofstream out(path);
    out << json.str();
    if (!out.flush()) throw latent::Error("cannot write '" + path.string() + "'");
  }

 private:
  std::vector<std::pair<std::string, std::variant<std::string, double>>> entries_;
};

}  // namespace examples

#endif  // LATENT_EXAMPLES_MNIST_SUPPORT_HPP
