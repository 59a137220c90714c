#include <latent/version.hpp>

#include <catch2/catch.hpp>

// tests/CMakeLists.txt passes the project version of CMakeLists.txt as
// LATENT_TEST_CMAKE_VERSION_{MAJOR,MINOR,PATCH}: the header and the package must agree, or
// find_package(latent <version>) would hand out headers of another version.
#if !defined(LATENT_TEST_CMAKE_VERSION_MAJOR) || !defined(LATENT_TEST_CMAKE_VERSION_MINOR) || \
    !defined(LATENT_TEST_CMAKE_VERSION_PATCH)
#error "tests/CMakeLists.txt must define LATENT_TEST_CMAKE_VERSION_{MAJOR,MINOR,PATCH}"
#endif

// The macros must be defined for #if, where an unknown identifier silently counts as 0.
#if !defined(LATENT_VERSION_MAJOR) || !defined(LATENT_VERSION_MINOR) || \
    !defined(LATENT_VERSION_PATCH)
#error "<latent/version.hpp> must define LATENT_VERSION_{MAJOR,MINOR,PATCH}"
#endif

TEST_CASE("The version macros match the CMake project version", "[version]") {
  STATIC_REQUIRE(LATENT_VERSION_MAJOR == LATENT_TEST_CMAKE_VERSION_MAJOR);
  STATIC_REQUIRE(LATENT_VERSION_MINOR == LATENT_TEST_CMAKE_VERSION_MINOR);
  STATIC_REQUIRE(LATENT_VERSION_PATCH == LATENT_TEST_CMAKE_VERSION_PATCH);
}
