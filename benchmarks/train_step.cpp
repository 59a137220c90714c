// One full training step (forward, backward, Adam update) of an autoencoder, beside exactly
// the GEMMs that step performs, timed in the same run. Everything that is not GEMM is overhead:
// the `step/gemm` counter is that ratio (target: at most 1.3 at one thread). With several
// threads, `speedup` is the time of the same step on one thread over its time on them (target:
// at least 1.7 at two threads and batch 512), and `gemm speedup` the same for the GEMMs alone,
// each the median over pairs of blocks timed back to back.
//
// Workloads (MSE, pixels in [0, 1]), each in float and double, at batch 32, 128 and 512, on 1
// and 2 threads (W2 also at 64, its batch in benchmarks/peers):
//   W1: 784-512-256-64-256-512-784, ReLU hidden, sigmoid output
//   W2: 784-64-784, sigmoid code, sigmoid output
// Run: build/release/benchmarks/train_step [--benchmark_filter=W1/float]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <latent/latent.hpp>

#include "support/bench_support.hpp"

namespace {

using namespace latent;
using Clock = std::chrono::steady_clock;

/// The GEMMs of one training step of a Dense chain with the given widths, on the same shapes
/// and through the same code as Dense (detail::Gemm: Eigen's kernel with packing buffers kept
/// between calls, or BLAS; split into panels over the threads as the layers' products are):
/// Z = W X; dW = dZ X^T; dX = W^T dZ for every layer but the first. Each is an assignment
/// C = A B as `C.noalias() = A * B` computes it: Eigen's kernel accumulates, so it zeroes C
/// first (a BLAS gemm with beta = 0 writes C directly).
template <class S>
class StepGemms {
 public:
  StepGemms(const std::vector<Index>& widths, Index batch) {
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
      const Index in = widths[i], out = widths[i + 1];
      W_.push_back(Matrix<S>::Constant(out, in, S(0.01)));
      dW_.push_back(Matrix<S>::Zero(out, in));
      X_.push_back(Matrix<S>::Constant(in, batch, S(0.5)));
      Z_.push_back(Matrix<S>(out, batch));
      dZ_.push_back(Matrix<S>::Constant(out, batch, S(0.01)));
      dX_.push_back(Matrix<S>(in, batch));
    }
    forward_.resize(W_.size());
    weight_.resize(W_.size());
    input_.resize(W_.size());
  }

  void run() {
    for (std::size_t i = 0; i < W_.size(); ++i) forward_[i](map(Z_[i]), W_[i], X_[i], false);
    for (std::size_t i = W_.size(); i-- > 0;) {
      weight_[i](map(dW_[i]), dZ_[i], X_[i].transpose(), false);
      if (i > 0) input_[i](map(dX_[i]), W_[i].transpose(), dZ_[i], false);
    }
    benchmark::DoNotOptimize(dW_.front().data());
  }

 private:
  static MatrixMap<S> map(Matrix<S>& m) { return MatrixMap<S>(m.data(), m.rows(), m.cols()); }

  std::vector<Matrix<S>> W_, dW_, X_, Z_, dZ_, dX_;
  std::vector<detail::Gemm<S>> forward_, weight_, input_;
};

template <class Model>
void measure(benchmark::State& state, Model& model, const std::vector<Index>& widths) {
  using S = typename Model::Scalar;
  const Index batch = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  set_threads(threads);
  const FlushDenormals flush;  // as fit() trains
  Rng rng(7);
  Matrix<S> X(widths.front(), batch);
  fill_uniform(X, 0.0, 1.0, rng);
  Adam<S> adam(1e-3);
  for (int i = 0; i < 3; ++i) {  // warm the workspaces and the optimizer state
    model.train_batch(X, rng);
    adam.step(model.parameters(), model.gradients());
  }

  StepGemms<S> gemms(widths, batch);
  gemms.run();

  // Each iteration times a block of steps (about 20 ms), then as many runs of its GEMMs alone,
  // then (with several threads) both again on one thread, back to back: the VM's speed drifts
  // by 15-30% within seconds, which would skew ratios of times taken seconds apart. Training
  // keeps one thread count, so after each change one untimed step brings the team back to
  // where training runs: the first two-thread step after a one-thread block took 9-11% longer
  // than the next (W1 float, batch 512; 4% with OMP_WAIT_POLICY=active), the idle core waking
  // up, and with a block of one step (batch 512) every timed block was such a first step.
  //
  // A speedup is the median of the iterations' ratios, not the ratio of their totals: the host
  // sometimes takes the VM's second core for a while, and a pair caught in such a spell
  // measures the host. Over ten repetitions of the batch-512 rows (Zen 5 VM, 2026-12-04) the
  // medians spread by a standard deviation of 0.02-0.05 in three rows whose totals' ratios
  // spread by 0.05-0.17, and more in the fourth (0.14 against 0.12).
  const auto step = [&] {
    benchmark::DoNotOptimize(model.train_batch(X, rng));
    adam.step(model.parameters(), model.gradients());
  };
  const int block = static_cast<int>(std::max(1.0, 0.02 / bench::seconds_of(1, step)));
  double step_seconds = 0, gemm_seconds = 0;
  std::vector<double> speedups, gemm_speedups;
  for (auto _ : state) {
    if (threads > 1) step();
    const double seconds = bench::seconds_of(block, step);
    state.SetIterationTime(seconds);
    step_seconds += seconds;
    const double gemm = bench::seconds_of(block, [&] { gemms.run(); });
    gemm_seconds += gemm;
    if (threads > 1) {
      set_threads(1);
      step();
      speedups.push_back(bench::seconds_of(block, step) / seconds);
      gemm_speedups.push_back(bench::seconds_of(block, [&] { gemms.run(); }) / gemm);
      set_threads(threads);
    }
  }

  const double samples =
      static_cast<double>(batch) * block * static_cast<double>(state.iterations());
  state.counters["samples/s"] = samples / step_seconds;
  state.counters["gemm samples/s"] = samples / gemm_seconds;
  state.counters["step/gemm"] = step_seconds / gemm_seconds;
  if (threads > 1) {
    state.counters["speedup"] = bench::median(speedups);
    state.counters["gemm speedup"] = bench::median(gemm_speedups);
  }
}

template <class S>
void w1(benchmark::State& state) {
  Rng rng(1);
  Autoencoder model(
      Sequential{Dense<S, ReLU>(784, 512), Dense<S, ReLU>(512, 256), Dense<S, ReLU>(256, 64)},
      Sequential{Dense<S, ReLU>(64, 256), Dense<S, ReLU>(256, 512), Dense<S, Sigmoid>(512, 784)},
      rng);
  measure(state, model, {784, 512, 256, 64, 256, 512, 784});
}

template <class S>
void w2(benchmark::State& state) {
  Rng rng(1);
  Autoencoder model(Sequential{Dense<S, Sigmoid>(784, 64)}, Sequential{Dense<S, Sigmoid>(64, 784)}, rng);
  measure(state, model, {784, 64, 784});
}

// Arguments: batch, threads.
void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "threads"})->ArgsProduct({{32, 128, 512}, {1, 2}})->UseManualTime();
}
void w2_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "threads"})->ArgsProduct({{32, 64, 128, 512}, {1, 2}})->UseManualTime();
}

#if defined(_OPENMP)
// The machine's own ceiling for two threads: seconds of a loop of independent FMAs on
// registers (no memory, no synchronisation) on each of `threads` threads at once.
double fma_seconds(int threads) {
  using Packet = Eigen::internal::packet_traits<float>::type;
  const auto start = Clock::now();
#pragma omp parallel num_threads(threads)
  {
    Packet lanes[10];
    for (Packet& lane : lanes) lane = Eigen::internal::pset1<Packet>(1.0f);
    const Packet scale = Eigen::internal::pset1<Packet>(0.999999f);
    const Packet shift = Eigen::internal::pset1<Packet>(1e-6f);
    for (int i = 0; i < 20'000'000; ++i)
      for (Packet& lane : lanes) lane = Eigen::internal::pmadd(lane, scale, shift);
    for (Packet& lane : lanes) benchmark::DoNotOptimize(lane);
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// `speedup`: how much more of that loop two threads get done than one, taken back to back. A
// VM whose two cores share a physical core, or a processor that lowers its clock with more
// cores busy, gives less than 2: no training step can scale beyond it.
void machine(benchmark::State& state) {
  double one = 0, two = 0;
  for (auto _ : state) {
    one += fma_seconds(1);
    const double seconds = fma_seconds(2);
    state.SetIterationTime(seconds);
    two += seconds;
  }
  state.counters["speedup"] = 2 * one / two;
}
#endif

}  // namespace

#if defined(_OPENMP)
BENCHMARK(machine)->Name("train_step/machine_fma/threads:2")->UseManualTime();
#endif
BENCHMARK_TEMPLATE(w1, float)->Name("train_step/W1_784-512-256-64/float")->Apply(shapes);
BENCHMARK_TEMPLATE(w1, double)->Name("train_step/W1_784-512-256-64/double")->Apply(shapes);
BENCHMARK_TEMPLATE(w2, float)->Name("train_step/W2_784-64/float")->Apply(w2_shapes);
BENCHMARK_TEMPLATE(w2, double)->Name("train_step/W2_784-64/double")->Apply(w2_shapes);

BENCHMARK_MAIN();
