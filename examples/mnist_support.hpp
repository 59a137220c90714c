// What the MNIST examples share: their common options and main(), loading the data, a
// stopwatch, and a flat metrics.json writer. Not part of the library.
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

#include <CLI/CLI.hpp>

#include <latent/io/mnist.hpp>

namespace examples {

/// The options of every MNIST example, on a Settings with members code, hidden, epochs, batch,
/// seed, threads and out.
template <class Settings>
void add_common_options(CLI::App& app, Settings& settings) {
  app.add_option("--code", settings.code, "Code (latent) size")->check(CLI::Range(1, 784))->capture_default_str();
  app.add_option("--hidden", settings.hidden, "Hidden layer size")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--epochs", settings.epochs, "Passes over the training data")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--batch", settings.batch, "Samples per step")->check(CLI::Range(1, 60000))->capture_default_str();
  app.add_option("--seed", settings.seed, "Seed of initialisation, shuffling and noise")->capture_default_str();
  app.add_option("--threads", settings.threads, "Eigen threads (0: all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--out", settings.out, "Output folder")->capture_default_str();
}

/// Parses the command line, then returns run(); an exception becomes "<program>: <what>" on
/// stderr and exit code 1.
template <class Run>
int parse_and_run(CLI::App& app, int argc, char** argv, const char* program, Run run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run();
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << '\n';
    return 1;
  }
}

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
