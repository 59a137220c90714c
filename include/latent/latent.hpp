#ifndef LATENT_LATENT_HPP
#define LATENT_LATENT_HPP

// latent: autoencoders in C++17 on Eigen. This umbrella header brings in everything that needs
// nothing but Eigen; the I/O headers that need zlib or stb are included on their own.

#include "latent/version.hpp"

#include "latent/core/denormals.hpp"
#include "latent/core/error.hpp"
#include "latent/core/init.hpp"
#include "latent/core/parameters.hpp"
#include "latent/core/policy.hpp"
#include "latent/core/random.hpp"
#include "latent/core/threads.hpp"
#include "latent/core/types.hpp"

#include "latent/activations.hpp"
#include "latent/layers/conv2d.hpp"
#include "latent/layers/conv_transpose2d.hpp"
#include "latent/layers/dense.hpp"
#include "latent/layers/image.hpp"
#include "latent/layers/max_pool2d.hpp"
#include "latent/layers/reshape.hpp"
#include "latent/layers/sequential.hpp"
#include "latent/layers/tied_dense.hpp"
#include "latent/layers/upsample2d.hpp"
#include "latent/losses.hpp"

#include "latent/anomaly.hpp"
#include "latent/kmeans.hpp"
#include "latent/metrics.hpp"
#include "latent/pca.hpp"

#include "latent/optim/adagrad.hpp"
#include "latent/optim/adam.hpp"
#include "latent/optim/rmsprop.hpp"
#include "latent/optim/schedules.hpp"
#include "latent/optim/sgd.hpp"
#include "latent/optim/state.hpp"

#include "latent/train/callbacks.hpp"
#include "latent/train/fit.hpp"
#include "latent/train/history.hpp"

#include "latent/models/autoencoder.hpp"
#include "latent/models/code_penalty.hpp"
#include "latent/models/contractive.hpp"
#include "latent/models/corruption.hpp"
#include "latent/models/likelihood.hpp"
#include "latent/models/variational.hpp"
#include "latent/models/feed_forward.hpp"
#include "latent/models/supervised.hpp"
#include "latent/models/transfer.hpp"

#endif  // LATENT_LATENT_HPP
