#ifndef LATENT_TESTS_SUPPORT_PCA_HPP
#define LATENT_TESTS_SUPPORT_PCA_HPP

// Pca's solvers are compiled once for the whole test executable, in support/pca.cpp: include
// this instead of <latent/pca.hpp>.

#include <latent/pca.hpp>

extern template class latent::Pca<float>;
extern template class latent::Pca<double>;

#endif  // LATENT_TESTS_SUPPORT_PCA_HPP
