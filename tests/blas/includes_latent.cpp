// Compiled, not run, by tests/blas/CMakeLists.txt under a BLAS configuration of its choosing.
#include <latent/latent.hpp>
