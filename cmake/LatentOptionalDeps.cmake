# Optional dependencies of the I/O headers (io/idx.hpp, io/mnist.hpp need zlib; io/png.hpp needs
# stb's stb_image_write.h). They are not part of latent::latent: the core headers need only
# Eigen. Our own tests, examples, benchmarks and header checks link the INTERFACE target
# latent_io_deps, which carries whatever was found plus LATENT_HAVE_ZLIB=1 / LATENT_HAVE_STB=1,
# so code can skip what the machine lacks. It is neither installed nor exported.
#
# Sets LATENT_HAVE_ZLIB, LATENT_HAVE_STB and LATENT_STB_INCLUDE_DIR.

include_guard(GLOBAL)

find_package(ZLIB QUIET)
set(LATENT_HAVE_ZLIB ${ZLIB_FOUND})

# Debian's libstb-dev puts the headers in <prefix>/include/stb; add that directory, so both
# #include <stb_image_write.h> and #include <stb/stb_image_write.h> work.
find_path(LATENT_STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb
    DOC "Directory holding stb_image_write.h (optional, for latent/io/png.hpp).")
mark_as_advanced(LATENT_STB_INCLUDE_DIR)
if(LATENT_STB_INCLUDE_DIR)
    set(LATENT_HAVE_STB ON)
else()
    set(LATENT_HAVE_STB OFF)
endif()

message(STATUS "latent: optional I/O dependencies: zlib ${LATENT_HAVE_ZLIB}, stb ${LATENT_HAVE_STB}")

add_library(latent_io_deps INTERFACE)
if(LATENT_HAVE_ZLIB)
    target_link_libraries(latent_io_deps INTERFACE ZLIB::ZLIB)
    target_compile_definitions(latent_io_deps INTERFACE LATENT_HAVE_ZLIB=1)
endif()
if(LATENT_HAVE_STB)
    # SYSTEM: stb's own warnings are not ours to fix under -Werror.
    target_include_directories(latent_io_deps SYSTEM INTERFACE "${LATENT_STB_INCLUDE_DIR}")
    target_compile_definitions(latent_io_deps INTERFACE LATENT_HAVE_STB=1)
endif()
