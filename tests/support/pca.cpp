#include "support/pca.hpp"

template class latent::Pca<float>;
template class latent::Pca<double>;
