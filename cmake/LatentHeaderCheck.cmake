# Header self-containment check (STYLE.md: "Every header compiles alone").
#
# latent_add_header_check() generates, at configure time, one translation unit per header under
# include/latent/ (except the *_impl.hpp bodies, which their header includes), each including
# its header twice (the second time checks the include guard), and compiles them all as the
# OBJECT library latent_header_check, with strict warnings. Building it is the check. New
# headers are picked up by the next build (CONFIGURE_DEPENDS).
#
# Headers that need an optional dependency are listed in LATENT_HEADER_CHECK_NEEDS_<dep> (paths
# relative to include/); they are compiled only when latent_io_deps has the dependency, and
# skipped with a status message otherwise.

include_guard(GLOBAL)

set(LATENT_HEADER_CHECK_NEEDS_ZLIB latent/io/checkpoint.hpp latent/io/idx.hpp latent/io/mnist.hpp
    latent/io/model_file.hpp)
set(LATENT_HEADER_CHECK_NEEDS_STB  latent/io/png.hpp)

function(latent_add_header_check)
    set(include_dir "${PROJECT_SOURCE_DIR}/include")
    set(out_dir "${PROJECT_BINARY_DIR}/header_check")
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS
        RELATIVE "${include_dir}" "${include_dir}/latent/*.hpp")
    list(FILTER headers EXCLUDE REGEX "_impl\\.hpp$")
    list(SORT headers)

    set(sources "")
    foreach(header IN LISTS headers)
        if(header IN_LIST LATENT_HEADER_CHECK_NEEDS_ZLIB AND NOT LATENT_HAVE_ZLIB)
            message(STATUS "latent: header check skips ${header} (no zlib)")
            continue()
        endif()
        if(header IN_LIST LATENT_HEADER_CHECK_NEEDS_STB AND NOT LATENT_HAVE_STB)
            message(STATUS "latent: header check skips ${header} (no stb)")
            continue()
        endif()
        set(LATENT_CHECKED_HEADER "${header}")
        # configure_file rewrites only what changed, so a reconfigure recompiles nothing new.
        configure_file("${PROJECT_SOURCE_DIR}/cmake/header_check.cpp.in"
            "${out_dir}/${header}.cpp" @ONLY)
        list(APPEND sources "${out_dir}/${header}.cpp")
    endforeach()

    # Drop translation units of headers that were removed or renamed since the last configure.
    file(GLOB_RECURSE stale "${out_dir}/*.hpp.cpp")
    foreach(file IN LISTS stale)
        if(NOT file IN_LIST sources)
            file(REMOVE "${file}")
        endif()
    endforeach()

    list(LENGTH sources count)
    message(STATUS "latent: header check compiles ${count} headers")
    if(count EQUAL 0)
        return()
    endif()
    add_library(latent_header_check OBJECT ${sources})
    target_link_libraries(latent_header_check PRIVATE latent::latent latent_io_deps)
    latent_strict_warnings(latent_header_check)
endfunction()
