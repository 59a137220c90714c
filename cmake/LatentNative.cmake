# latent_native_flags(<var>): the options that make a program of ours fast on the machine that
# builds it: -O3, and -march=native when LATENT_NATIVE is on and the compiler has it. The
# benchmarks and the examples (the MNIST demo trains for minutes) use them; the tests do not,
# so that they check the portable code paths.

include_guard(GLOBAL)
include(CheckCXXCompilerFlag)

function(latent_native_flags out)
    set(flags "")
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        list(APPEND flags $<$<NOT:$<CONFIG:Debug>>:-O3>)  # a Debug build stays debuggable
        if(LATENT_NATIVE)
            check_cxx_compiler_flag(-march=native LATENT_HAVE_MARCH_NATIVE)
            if(LATENT_HAVE_MARCH_NATIVE)
                list(APPEND flags -march=native)
                # GCC before 13 warns falsely that _mm512_undefined_ps() is used uninitialised
                # when Eigen's AVX-512 packet code is inlined (GCC bug 105593), as "may be" or
                # "is" used uninitialised depending on inlining: -Werror would stop every such
                # program on an AVX-512 machine.
                if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
                    list(APPEND flags -Wno-maybe-uninitialized -Wno-uninitialized)
                endif()
            endif()
        endif()
    endif()
    set(${out} "${flags}" PARENT_SCOPE)
endfunction()
