// Catch2's main(), compiled once into latent_catch_main instead of into every test file.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
