# Compile options for latent's own targets (tests, examples, benchmarks, header checks).
# Nothing here touches global flags or latent::latent, so consumers are never affected.

include_guard(GLOBAL)

# latent_strict_warnings(<target>)
#   -Wall -Wextra -Wpedantic -Werror on GCC and Clang, and ISO C++ without GNU extensions
#   (-std=c++17, not GCC's default -std=gnu++17). Dependencies reached through imported targets
#   (Eigen, Catch2, benchmark) are system includes, so only our code is held to it.
function(latent_strict_warnings target)
    # An explicit standard, so the flag is passed even where the compiler's default already
    # satisfies cxx_std_17 (before policy CMP0128 CXX_EXTENSIONS alone would not add it).
    # CMAKE_CXX_STANDARD=20 on the command line still tests a newer one.
    if(NOT DEFINED CMAKE_CXX_STANDARD)
        set_target_properties(${target} PROPERTIES CXX_STANDARD 17)
    endif()
    set_target_properties(${target} PROPERTIES CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
    elseif(MSVC)
        target_compile_options(${target} PRIVATE /W4 /WX /permissive-)
    endif()
endfunction()

# latent_sanitize(<target>)
#   With LATENT_SANITIZE ON: AddressSanitizer and UndefinedBehaviorSanitizer; with
#   LATENT_SANITIZE=thread: ThreadSanitizer. Compiled and linked in, every finding fatal. A no-op
#   when LATENT_SANITIZE is off.
function(latent_sanitize target)
    if(NOT LATENT_SANITIZE)
        return()
    endif()
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        message(FATAL_ERROR "LATENT_SANITIZE needs GCC or Clang, not ${CMAKE_CXX_COMPILER_ID}")
    endif()
    if(LATENT_SANITIZE STREQUAL "thread")
        # TSan's reports are made fatal at run time (TSAN_OPTIONS=halt_on_error=1 in
        # scripts/tsan.sh): it has no -fno-sanitize-recover.
        set(flags -fsanitize=thread -fno-omit-frame-pointer)
    else()
        set(flags -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    endif()
    target_compile_options(${target} PRIVATE ${flags})
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "STATIC_LIBRARY|OBJECT_LIBRARY")
        target_link_options(${target} PRIVATE ${flags})
    endif()
endfunction()
