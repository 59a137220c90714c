# latent_catch_discover_tests(<target> [PROPERTIES <name> <value>...])
#
# Registers every Catch2 (v2) TEST_CASE of <target> as its own ctest test, named after it, like
# Catch2's catch_discover_tests, which it replaces because of two flaws of Catch2 2.13's version:
#   - a test name with an unbalanced '[' or ']' (say "draws in [0, 1)") stops CMake's list
#     splitting, so that test and every one after it became ONE ctest test, whose filter matched
#     nothing;
#   - a filter that matches nothing passes ("No tests ran", exit code 0).
# Here names are split safely, every test runs with --warn NoTests (a filter that matches nothing
# fails), and listing fails the build if the executable crashes or lists a count it did not
# return (e.g. a sanitizer report at exit).
#
# As with Catch's, the list is made after each link (POST_BUILD, so no reconfigure is needed for
# a new TEST_CASE) and read by ctest through the directory's TEST_INCLUDE_FILES. PROPERTIES are
# set on every test (single values: a value cannot hold ';').

include_guard(GLOBAL)

set(_LATENT_CATCH_ADD_TESTS "${CMAKE_CURRENT_LIST_DIR}/LatentCatchAddTests.cmake")

# _latent_bracket(<out> <text>): <text> as a CMake bracket argument, which nothing inside splits.
function(_latent_bracket out text)
    set(eq "=")
    while(text MATCHES "]${eq}]")
        string(APPEND eq "=")
    endwhile()
    set(${out} "[${eq}[${text}]${eq}]" PARENT_SCOPE)
endfunction()

function(latent_catch_discover_tests target)
    cmake_parse_arguments(arg "" "" "PROPERTIES" ${ARGN})
    set(tests_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_tests.cmake")
    set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")

    set(properties "")
    foreach(item IN LISTS arg_PROPERTIES)
        _latent_bracket(quoted "${item}")
        string(APPEND properties " ${quoted}")
    endforeach()
    _latent_bracket(properties "${properties}")
    _latent_bracket(working_directory "${CMAKE_CURRENT_BINARY_DIR}")
    _latent_bracket(tests_file_arg "${tests_file}")

    # The parameters of the listing step, one file per configuration (the path of the
    # executable is a generator expression).
    set(params "${CMAKE_CURRENT_BINARY_DIR}/${target}_discover-$<CONFIG>.cmake")
    file(GENERATE OUTPUT "${params}" CONTENT
"set(EXECUTABLE [==[$<TARGET_FILE:${target}>]==])
set(TARGET ${target})
set(WORKING_DIRECTORY ${working_directory})
set(TESTS_FILE ${tests_file_arg})
set(TEST_PROPERTIES ${properties})
")
    add_custom_command(TARGET ${target} POST_BUILD
        COMMAND "${CMAKE_COMMAND}" "-DPARAMS=${params}" -P "${_LATENT_CATCH_ADD_TESTS}"
        BYPRODUCTS "${tests_file}"
        COMMENT "Listing the Catch tests of ${target}"
        VERBATIM)

    file(WRITE "${include_file}"
"if(EXISTS \"${tests_file}\")
    include(\"${tests_file}\")
else()
    add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)
endif()
")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
