#ifndef LATENT_VERSION_HPP
#define LATENT_VERSION_HPP

// The version of latent these headers belong to; CMake's project version is kept equal to it.
#define LATENT_VERSION_MAJOR 0
#define LATENT_VERSION_MINOR 1
#define LATENT_VERSION_PATCH 0

#endif  // LATENT_VERSION_HPP
