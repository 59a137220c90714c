#ifndef LATENT_MODELS_VARIATIONAL_HPP
#define LATENT_MODELS_VARIATIONAL_HPP

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "latent/activations.hpp"
#include "latent/core/parameters.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/random.hpp"
#include "latent/core/types.hpp"
#include "latent/detail/checks.hpp"
#include "latent/detail/inference.hpp"
#include "latent/detail/optimizer_support.hpp"
#include "latent/detail/workspace.hpp"
#include "latent/layers/dense.hpp"
#include "latent/models/likelihood.hpp"

namespace latent {

/// Options of VariationalAutoencoder.
struct VaeOptions {
  /// Weight of the KL term (beta-VAE, Higgins et al., 2017); 1 is the ELBO. >= 0.
  double beta = 1.0;
  /// L2 weight decay lambda >= 0 on every weight matrix (not the biases). Default 0.
  double weight_decay = 0.0;

  void check() const {
    detail::check_non_negative(beta, "beta", "latent::VariationalAutoencoder");
    detail::check_non_negative(weight_decay, "weight_decay", "latent::VariationalAutoencoder");
  }
};

/// A variational autoencoder (Kingma and Welling, 2014). The encoder is a body followed by two
/// Dense heads giving the mean mu and the log-variance v of q(z | x) = N(mu, diag(exp(v)));
/// z = mu + exp(v / 2) * eps with eps ~ N(0, I) drawn from the caller's engine; the decoder
/// gives the parameters of p(x | z) read by the Likelihood (Bernoulli, Gaussian,
/// GaussianLearnedVariance). Training minimises the negative ELBO, mean over the batch:
///   L = (1/n) sum_j [ -log p(x_j | z_j) + beta KL(q(z | x_j) || N(0, I)) ],
///   KL = (1/2) sum_k (mu_k^2 + exp(v_k) - 1 - v_k)       (closed form).
///
///   Rng rng(1);
///   VariationalAutoencoder vae(Sequential{Dense<float, ReLU>(784, 400)}, 20,
///                              Sequential{Dense<float, ReLU>(20, 400), Dense<float, Sigmoid>(400, 784)},
///                              rng, Bernoulli{});
///   fit(vae, adam, images, options, rng);
///   Vector<float> nll = -vae.log_likelihood(test, 100, rng);   // importance-weighted, k = 100
///   Matrix<float> digits = vae.sample(64, rng);
///
/// The parameter arena holds the body, the mean head, the log-variance head, the decoder.
/// Everything but the const overloads of encode_mean, decode and reconstruct runs through the
/// model's workspace, one thread at a time; those allocate per call and may run on one model
/// from several threads at once (docs/threads.md).
template <class Body, class Decoder, class Likelihood = Bernoulli>
class VariationalAutoencoder {
 public:
  using Scalar = typename Body::Scalar;
  using S = Scalar;
  using LikelihoodType = Likelihood;
  static_assert(std::is_same_v<typename Decoder::Scalar, S>,
                "latent::VariationalAutoencoder: body and decoder must have the same scalar type");

  /// In: body (input_size -> hidden), latent size, decoder (latent -> the likelihood's
  /// parameters); rng draws the initial parameters; then Likelihood and VaeOptions in any order.
  template <class Engine, class... Policies>
  VariationalAutoencoder(Body body, Index latent_size, Decoder decoder, Engine& rng,
                         const Policies&... policies)
      : body_(std::move(body)),
        mean_head_(body_.output_size(), latent_size),
        log_variance_head_(body_.output_size(), latent_size),
        decoder_(std::move(decoder)),
        likelihood_(detail::pick<Likelihood>(policies...)),
        options_(detail::pick<VaeOptions>(policies...)) {
    static_assert(((std::is_same_v<Policies, Likelihood> || std::is_same_v<Policies, VaeOptions>) && ...),
                  "latent::VariationalAutoencoder: after the engine come only the likelihood "
                  "and VaeOptions");
    options_.check();
    // The likelihood checked its options when built; its fields are public, so again here.
    detail::check_policy(likelihood_);
    if (decoder_.input_size() != latent_size)
      throw std::invalid_argument("latent::VariationalAutoencoder: the latent size is " +
                                  std::to_string(latent_size) + " but the decoder takes " +
                                  std::to_string(decoder_.input_size()));
    if (decoder_.output_size() != Likelihood::output_size(body_.input_size()))
      throw std::invalid_argument(
          "latent::VariationalAutoencoder: the decoder gives " +
          std::to_string(decoder_.output_size()) + " outputs but a " + Likelihood::name +
          " likelihood of " + std::to_string(body_.input_size()) + " inputs needs " +
          std::to_string(Likelihood::output_size(body_.input_size())));
    Index end = body_.place(0);
    mean_head_.place(end);
    end += mean_head_.parameter_count();
    log_variance_head_.place(end);
    end += log_variance_head_.parameter_count();
    end = decoder_.place(end);
    std::vector<Segment> weights;
    body_.weights(weights);
    mean_head_.weights(weights);
    log_variance_head_.weights(weights);
    decoder_.weights(weights);
    arena_ = ParameterArena<S>(end, std::move(weights));
    S* values = arena_.values().data();
    body_.initialize(values, rng);
    mean_head_.initialize(values, rng);
    log_variance_head_.initialize(values, rng);
    decoder_.initialize(values, rng);
  }

  Index input_size() const { return body_.input_size(); }
  Index latent_size() const { return mean_head_.output_size(); }
  Index parameter_count() const { return arena_.size(); }
  const VaeOptions& options() const noexcept { return options_; }
  const Likelihood& likelihood() const noexcept { return likelihood_; }
  Vector<S>& parameters() noexcept { return arena_.values(); }
  const Vector<S>& parameters() const noexcept { return arena_.values(); }
  const Vector<S>& gradients() const noexcept { return arena_.gradients(); }
  Body& body() noexcept { return body_; }
  const Body& body() const noexcept { return body_; }
  Decoder& decoder() noexcept { return decoder_; }
  const Decoder& decoder() const noexcept { return decoder_; }

  /// The mean of q(z | x) for each column of X: latent_size x n.
  Matrix<S> encode_mean(const ConstMatrixRef<S>& X) {
    Matrix<S> mean(latent_size(), X.cols()), log_variance(latent_size(), X.cols());
    encode(X, mean, log_variance);
    return mean;
  }
  /// As encode_mean(X), through buffers of this call: safe from several threads at once.
  Matrix<S> encode_mean(const ConstMatrixRef<S>& X) const {
    detail::check_data(X, input_size(), "latent::VariationalAutoencoder::encode", true);
    Matrix<S> hidden, mean;
    return detail::infer_column_blocks(
        X, latent_size(), [&](const ConstMatrixRef<S>& x) -> const Matrix<S>& {
          body_.infer(values(), x, hidden);
          mean_head_.infer(values(), hidden, mean);
          return mean;
        });
  }
  /// Mean and log-variance of q(z | x), each latent_size x n.
  void encode(const ConstMatrixRef<S>& X, MatrixRef<S> mean, MatrixRef<S> log_variance) {
    detail::check_data(X, input_size(), "latent::VariationalAutoencoder::encode", true);
    detail::check_output(mean, latent_size(), X.cols(), "latent::VariationalAutoencoder::encode");
    detail::check_output(log_variance, latent_size(), X.cols(),
                         "latent::VariationalAutoencoder::encode");
    detail::for_each_column_block(X.cols(), [&](Index start, Index count) {
      const ConstMatrixMap<S> hidden = body_.forward(values(), X.middleCols(start, count));
      mean.middleCols(start, count) = mean_head_.forward(values(), hidden);
      log_variance.middleCols(start, count) = log_variance_head_.forward(values(), hidden);
    });
  }

  /// The mean of p(x | z) for each latent point (latent_size x n): input_size x n.
  Matrix<S> decode(const ConstMatrixRef<S>& latent) {
    detail::check_data(latent, latent_size(), "latent::VariationalAutoencoder::decode", true);
    Matrix<S> out(input_size(), latent.cols());
    detail::for_each_column_block(latent.cols(), [&](Index start, Index count) {
      out.middleCols(start, count) = Likelihood::template mean<S>(
          decoder_.forward(values(), latent.middleCols(start, count)), input_size());
    });
    return out;
  }

  /// As decode(latent), through buffers of this call: safe from several threads at once.
  Matrix<S> decode(const ConstMatrixRef<S>& latent) const {
    detail::check_data(latent, latent_size(), "latent::VariationalAutoencoder::decode", true);
    Matrix<S> decoded, mean;
    return detail::infer_column_blocks(
        latent, input_size(), [&](const ConstMatrixRef<S>& z) -> const Matrix<S>& {
          decoder_.infer(values(), z, decoded);
          mean = Likelihood::template mean<S>(decoded, input_size());
          return mean;
        });
  }

  /// decode(encode_mean(X)): the reconstruction from the mean code.
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) { return decode(encode_mean(X)); }
  /// As reconstruct(X), through buffers of these calls: safe from several threads at once.
  Matrix<S> reconstruct(const ConstMatrixRef<S>& X) const { return decode(encode_mean(X)); }

  /// n draws from the model: decode(z) with z ~ N(0, I) from rng.
  template <class Engine>
  Matrix<S> sample(Index n, Engine& rng) {
    if (n < 0) throw std::invalid_argument("latent::VariationalAutoencoder::sample: n < 0");
    Matrix<S> latent(latent_size(), n);
    fill_normal(latent, 0.0, 1.0, rng);
    return decode(latent);
  }

  /// The training objective on X with the noise eps (latent_size x n) given, its gradient in
  /// gradients(): the negative ELBO (mean over samples, beta on the KL) plus weight decay.
  S train_batch_with_noise(const ConstMatrixRef<S>& X, const ConstMatrixRef<S>& eps) {
    detail::check_shape(X, input_size(), "latent::VariationalAutoencoder::train_batch");
    if (eps.rows() != latent_size() || eps.cols() != X.cols())
      throw std::invalid_argument("latent::VariationalAutoencoder::train_batch: noise is " +
                                  std::to_string(eps.rows()) + " x " +
                                  std::to_string(eps.cols()) + ", expected " +
                                  std::to_string(latent_size()) + " x " +
                                  std::to_string(X.cols()));
    Likelihood::template check_data<S>(X, "latent::VariationalAutoencoder::train_batch");
    const Index n = X.cols();
    const S inverse_n = S(1) / static_cast<S>(n);
    const S beta = static_cast<S>(options_.beta);
    arena_.zero_gradients();
    S* gradients = arena_.gradients().data();

    const ConstMatrixMap<S> hidden = body_.forward(values(), X);
    const ConstMatrixMap<S> mu = mean_head_.forward(values(), hidden);
    const ConstMatrixMap<S> log_variance = log_variance_head_.forward(values(), hidden);
    MatrixMap<S> sigma = sigma_.view(latent_size(), n);
    sigma.array() = (S(0.5) * log_variance.array()).exp();
    MatrixMap<S> z = z_.view(latent_size(), n);
    z.array() = mu.array() + sigma.array() * eps.array();  // reparameterisation

    const ConstMatrixMap<S> output = decoder_.forward(values(), z);
    MatrixMap<S> dZ = output_gradient_.view(output.rows(), n);
    const S reconstruction = likelihood_.template negative_log_likelihood<S>(
        decoder_.last().activation(), decoder_.last().preactivation(), output, X, inverse_n, dZ);
    const S kl = S(0.5) * (mu.array().square() + sigma.array().square() - S(1) - log_variance.array()).sum();
    S objective = (reconstruction + beta * kl) * inverse_n;

    const ConstMatrixMap<S> dz = decoder_.backward_preactivation(values(), gradients, z, dZ, true);
    // dL/dmu = dz + beta mu / n;  dL/dv = dz eps sigma / 2 + beta (exp(v) - 1) / (2n)
    MatrixMap<S> dmu = mean_gradient_.view(latent_size(), n);
    dmu = dz + (beta * inverse_n) * mu;
    MatrixMap<S> dv = log_variance_gradient_.view(latent_size(), n);
    dv.array() = S(0.5) * dz.array() * eps.array() * sigma.array() +
                 (S(0.5) * beta * inverse_n) * (sigma.array().square() - S(1));
    MatrixMap<S> dhidden = hidden_gradient_.view(hidden.rows(), n);
    dhidden = mean_head_.backward(values(), gradients, hidden, dmu, true);
    dhidden += log_variance_head_.backward(values(), gradients, hidden, dv, true);
    body_.backward(values(), gradients, X, dhidden, false);
    if (options_.weight_decay > 0.0)
      objective += arena_.add_weight_decay(static_cast<S>(options_.weight_decay));
    return objective;
  }

  /// One step's work for fit: eps drawn from rng, then train_batch_with_noise.
  template <class Engine>
  S train_batch(const ConstMatrixRef<S>& X, Engine& rng) {
    MatrixMap<S> eps = noise_.view(latent_size(), X.cols());
    fill_normal(eps, 0.0, 1.0, rng);
    return train_batch_with_noise(X, noise_.last());
  }

  /// The mean negative ELBO of X with beta = 1 and one draw of eps per sample, from a
  /// generator seeded by `seed` (a validation loss that fit can call without an engine).
  S loss(const ConstMatrixRef<S>& X, std::uint64_t seed = 0) {
    Rng rng(seed);
    return -static_cast<S>(elbo(X, rng).mean());
  }

  /// Per-sample ELBO log p(x|z) - KL with `draws` samples of z each (Monte Carlo for the
  /// first term, closed form for the KL): 1 x n.
  template <class Engine>
  Matrix<S> elbo(const ConstMatrixRef<S>& X, Engine& rng, Index draws = 1) {
    check_estimate(X, draws, "elbo");
    Matrix<S> out = Matrix<S>::Zero(1, X.cols());
    for_each_draw(X, draws, rng, [&](Index j, S log_px, S, S, S kl) {
      out(0, j) += (log_px - kl) / static_cast<S>(draws);
    });
    return out;
  }

  /// Per-sample reconstruction probability E_q[log p(x | z)] (An and Cho, 2015) by Monte Carlo
  /// with `draws` samples: 1 x n. Low values flag anomalies.
  template <class Engine>
  Matrix<S> reconstruction_probability(const ConstMatrixRef<S>& X, Index draws, Engine& rng) {
    check_estimate(X, draws, "reconstruction_probability");
    Matrix<S> out = Matrix<S>::Zero(1, X.cols());
    for_each_draw(X, draws, rng, [&](Index j, S log_px, S, S, S) {
      out(0, j) += log_px / static_cast<S>(draws);
    });
    return out;
  }

  /// Importance-weighted estimate of log p(x) with k samples (Burda, Grosse and Salakhutdinov,
  /// 2016): log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x), z_i ~ q(z | x), accumulated as a
  /// running log-sum-exp in double so that k = 5000 is as stable as k = 1. 1 x n. It is at
  /// least the ELBO in expectation and grows towards log p(x) with k.
  template <class Engine>
  Matrix<S> log_likelihood(const ConstMatrixRef<S>& X, Index k, Engine& rng) {
    check_estimate(X, k, "log_likelihood");
    std::vector<double> top(static_cast<std::size_t>(X.cols()), -std::numeric_limits<double>::infinity());
    std::vector<double> sum(static_cast<std::size_t>(X.cols()), 0.0);
    for_each_draw(X, k, rng, [&](Index j, S log_px, S log_pz, S log_qz, S) {
      const double w = static_cast<double>(log_px) + static_cast<double>(log_pz) - static_cast<double>(log_qz);
      double& m = top[static_cast<std::size_t>(j)];
      double& s = sum[static_cast<std::size_t>(j)];
      if (w > m) {
        s = s * std::exp(m - w) + 1.0;
        m = w;
      } else {
        s += std::exp(w - m);
      }
    });
    Matrix<S> out(1, X.cols());
    for (Index j = 0; j < X.cols(); ++j)
      out(0, j) = static_cast<S>(top[static_cast<std::size_t>(j)] +
                                 std::log(sum[static_cast<std::size_t>(j)]) -
                                 std::log(static_cast<double>(k)));
    return out;
  }

 private:
  const S* values() const noexcept { return arena_.values().data(); }

  void check_estimate(const ConstMatrixRef<S>& X, Index draws, const char* what) const {
    const std::string who = std::string("latent::VariationalAutoencoder::") + what;
    detail::check_data(X, input_size(), who, true);
    Likelihood::template check_data<S>(X, who);
    if (draws < 1)
      throw std::invalid_argument(who + ": the number of samples must be at least 1, got " +
                                  std::to_string(draws));
  }

  // Calls f(column, log p(x|z), log p(z), log q(z|x), KL) for `draws` draws of z per column of
  // X. The columns are repeated so that each decoder pass is one GEMM over ~256 latent points.
  template <class Engine, class F>
  void for_each_draw(const ConstMatrixRef<S>& X, Index draws, Engine& rng, F&& f) {
    const S half_log_two_pi = static_cast<S>(0.5 * std::log(2.0 * 3.14159265358979323846));
    const Index latent = latent_size();
    Matrix<S> mean(latent, 1), log_variance(latent, 1);
    const Index per_pass = std::max<Index>(1, std::min<Index>(draws, 256));
    Matrix<S> eps(latent, per_pass), z(latent, per_pass), repeated(X.rows(), per_pass);
    Matrix<S> log_px(1, per_pass);
    for (Index j = 0; j < X.cols(); ++j) {
      encode(X.col(j), mean, log_variance);
      const S kl = S(0.5) * (mean.array().square() + log_variance.array().exp() - S(1) - log_variance.array()).sum();
      const S log_det = S(0.5) * log_variance.sum();
      repeated = X.col(j).replicate(1, per_pass);
      for (Index done = 0; done < draws; done += per_pass) {
        const Index count = std::min(per_pass, draws - done);
        fill_normal(eps, 0.0, 1.0, rng);
        z = (eps.array().colwise() * (S(0.5) * log_variance.col(0).array()).exp()).matrix();
        z.colwise() += mean.col(0);
        const ConstMatrixMap<S> output = decoder_.forward(values(), z.leftCols(count));
        likelihood_.template log_likelihood<S>(decoder_.last().activation(),
                                                decoder_.last().preactivation(), output,
                                                repeated.leftCols(count), log_px.leftCols(count));
        for (Index i = 0; i < count; ++i) {
          const S log_pz = -S(0.5) * z.col(i).squaredNorm() - static_cast<S>(latent) * half_log_two_pi;
          const S log_qz = -S(0.5) * eps.col(i).squaredNorm() - log_det - static_cast<S>(latent) * half_log_two_pi;
          f(j, log_px(0, i), log_pz, log_qz, kl);
        }
      }
    }
  }

  Body body_;
  Dense<S, Identity> mean_head_;
  Dense<S, Identity> log_variance_head_;
  Decoder decoder_;
  Likelihood likelihood_;
  VaeOptions options_;
  ParameterArena<S> arena_;
  detail::Workspace<S> sigma_, z_, noise_, output_gradient_, mean_gradient_,
      log_variance_gradient_, hidden_gradient_;
};

template <class Body, class Decoder, class Engine, class... Policies>
VariationalAutoencoder(Body, Index, Decoder, Engine&, const Policies&...)
    -> VariationalAutoencoder<Body, Decoder,
                              detail::find_kind_t<likelihood_kind, Bernoulli, Policies...>>;

}  // namespace latent

#endif  // LATENT_MODELS_VARIATIONAL_HPP
