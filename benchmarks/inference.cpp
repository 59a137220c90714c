// Inference with the 32-d model (the plain autoencoder of the reconstruction table and of
// mnist_autoencoder: 784-512-32-512-784, ReLU inside, a linear code, a sigmoid output), float:
// the latency of encoding one sample, and the throughput of encoding and of reconstructing
// 10,000, on 1 and 2 threads. Speed does not depend on the weights' values, so the model is
// freshly initialised and the inputs are uniform in [0, 1].
//
// Run: build/release/benchmarks/inference [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>

#include <latent/latent.hpp>

namespace {

using namespace latent;

constexpr Index kSamples = 10000;

auto make_model(Rng& rng) {
  return Autoencoder(Sequential{Dense<float, ReLU>(784, 512), Dense<float>(512, 32)},
                     Sequential{Dense<float, ReLU>(32, 512), Dense<float, Sigmoid>(512, 784)}, rng,
                     BinaryCrossEntropy{});
}

Matrix<float> inputs(Rng& rng) {
  Matrix<float> X(784, kSamples);
  fill_uniform(X, 0.0, 1.0, rng);
  return X;
}

// One sample at a time, as a service answering requests would: a different column each call.
void encode_one(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(0)));
  Rng rng(1);
  auto model = make_model(rng);
  const Matrix<float> X = inputs(rng);
  Matrix<float> code(32, 1);
  Index i = 0;
  for (auto _ : state) {
    model.encode(X.col(i), code);
    benchmark::DoNotOptimize(code.data());
    i = (i + 1) % kSamples;
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}

// 10,000 samples in one call: the batch path.
template <bool Reconstruct>
void all(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(0)));
  Rng rng(1);
  auto model = make_model(rng);
  const Matrix<float> X = inputs(rng);
  Matrix<float> out(Reconstruct ? 784 : 32, kSamples);
  for (auto _ : state) {
    if constexpr (Reconstruct)
      out = model.reconstruct(X);
    else
      model.encode(X, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kSamples, benchmark::Counter::kIsRate);
}

void threads(benchmark::internal::Benchmark* b) {
  b->ArgNames({"threads"})->Arg(1)->Arg(2)->UseRealTime();
}

BENCHMARK(encode_one)->Name("inference/encode_one")->Apply(threads)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(all, false)->Name("inference/encode_10000")->Apply(threads)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(all, true)->Name("inference/reconstruct_10000")->Apply(threads)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
