// Adam's update over a model's flat buffers on one thread, beside the same formula written as a
// plain loop that the compiler vectorises on its own, timed in paired blocks of the same run.
// `vs loop` is latent's time over the loop's: about 1 when latent's update (detail::for_each_lane,
// which every optimizer but plain SGD runs on) costs what the arithmetic and memory traffic
// cost, and above 1 when it adds work of its own, or when its square root does: the loop takes
// the exact instruction, latent Eigen's packet square root, which for float (and for double
// with AVX-512) is an estimate and Newton steps under EIGEN_FAST_MATH. Sizes: W2's parameters
// (101k: latent's and the loop's buffers stay in cache) and W1's (1.10M: 31 MB of them in
// float, 62 MB in double, which do not), see benchmarks/train_step.cpp.
// Run: build/release/benchmarks/optimizer_step
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include <latent/latent.hpp>

#include "support/bench_support.hpp"

namespace {

using namespace latent;

/// Adam as a textbook loop, in the form latent's update takes (the same formula, so the same
/// work for the processor but for the square root, above): the reference for what one pass
/// should cost. The compiler vectorises it only without errno for std::sqrt (-fno-math-errno,
/// benchmarks/CMakeLists.txt).
template <class S>
class LoopAdam {
 public:
  explicit LoopAdam(Index n) : m_(Vector<S>::Zero(n)), v_(Vector<S>::Zero(n)) {}

  void step(Vector<S>& parameters, const Vector<S>& gradients) {
    ++t_;
    const double c1 = 1.0 - std::pow(0.9, t_), c2 = 1.0 - std::pow(0.999, t_);
    const S b1(0.9), b2(0.999), step_size = S(1e-3 / c1), inverse_root_c2 = S(1 / std::sqrt(c2)),
            eps(1e-8);
    S* __restrict p = parameters.data();
    S* __restrict m = m_.data();
    S* __restrict v = v_.data();
    const S* __restrict g = gradients.data();
    for (Index i = 0; i < parameters.size(); ++i) {
      m[i] = b1 * m[i] + (S(1) - b1) * g[i];
      v[i] = b2 * v[i] + (S(1) - b2) * (g[i] * g[i]);
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inverse_root_c2 + eps);
    }
  }

 private:
  Vector<S> m_, v_;
  int t_ = 0;
};

template <class S>
void adam(benchmark::State& state) {
  const Index n = state.range(0);
  set_threads(1);
  Rng rng(3);
  Vector<S> parameters(n), gradients(n);
  fill_uniform(parameters, -0.1, 0.1, rng);
  fill_uniform(gradients, -0.01, 0.01, rng);
  Vector<S> loop_parameters = parameters;
  Adam<S> latent_adam(1e-3);
  LoopAdam<S> loop_adam(n);

  const auto latent_step = [&] { latent_adam.step(parameters, gradients); };
  const auto loop_step = [&] { loop_adam.step(loop_parameters, gradients); };
  latent_step();
  loop_step();
  // The same formula: after one step both differ by rounding only (the square root's).
  const S tolerance = std::is_same_v<S, float> ? S(1e-6) : S(1e-14);
  if (!((parameters - loop_parameters).cwiseAbs().maxCoeff() <= tolerance)) {
    state.SkipWithError("latent's Adam and the reference loop disagree");
    return;
  }
  // Blocks of about 10 ms, back to back, in alternating order: the VM's speed drifts within
  // seconds.
  const int block = static_cast<int>(std::max(1.0, 0.01 / bench::seconds_of(1, latent_step)));
  double latent_seconds = 0, loop_seconds = 0;
  bool latent_first = true;
  for (auto _ : state) {
    double seconds = 0;
    if (latent_first) {
      seconds = bench::seconds_of(block, latent_step);
      loop_seconds += bench::seconds_of(block, loop_step);
    } else {
      loop_seconds += bench::seconds_of(block, loop_step);
      seconds = bench::seconds_of(block, latent_step);
    }
    latent_first = !latent_first;
    state.SetIterationTime(seconds);
    latent_seconds += seconds;
  }
  benchmark::DoNotOptimize(parameters.data());
  benchmark::DoNotOptimize(loop_parameters.data());

  const double updates = static_cast<double>(n) * block * static_cast<double>(state.iterations());
  state.counters["ns/parameter"] = latent_seconds / updates * 1e9;
  state.counters["loop ns/parameter"] = loop_seconds / updates * 1e9;
  state.counters["vs loop"] = latent_seconds / loop_seconds;
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgName("parameters")->Arg(101'200)->Arg(1'100'112)->UseManualTime();
}

}  // namespace

BENCHMARK_TEMPLATE(adam, float)->Name("optimizer_step/adam/float")->Apply(sizes);
BENCHMARK_TEMPLATE(adam, double)->Name("optimizer_step/adam/double")->Apply(sizes);

BENCHMARK_MAIN();
