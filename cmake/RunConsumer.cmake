# Builds and runs tests/consumer, an outside project, through one integration path.
# Run by the consumer.* tests of tests/CMakeLists.txt:
#
#   cmake -D MODE=<mode> -D SOURCE_DIR=<latent checkout> -D WORK_DIR=<scratch dir> [...] -P RunConsumer.cmake
#
# MODE
#   prefix        installs the latent build BINARY_DIR into PREFIX (emptied first) and checks
#                 that every header and package file is there (the fixture of the next modes)
#   find_package  find_package(latent 0.1 CONFIG REQUIRED) with CMAKE_PREFIX_PATH=PREFIX
#   version       find_package(latent 0.0), (latent 0.2) and (latent 1.0) must be refused
#   subdirectory  add_subdirectory(SOURCE_DIR)
#   fetchcontent  FetchContent_Declare(latent SOURCE_DIR SOURCE_DIR)
#   pkgconfig     CXX_COMPILER -std=c++17 $(pkg-config --cflags --libs latent), PKG_CONFIG_PATH
#                 pointing into PREFIX
# Other variables: CONFIG (build type), GENERATOR, MAKE_PROGRAM, CXX_COMPILER, CXX_LAUNCHER
# ('|'-separated), EIGEN3_DIR, VERSION (latent's), INCLUDEDIR, CMAKEDIR, PKGCONFIGDIR (install
# dirs relative to PREFIX), PKG_CONFIG (the executable).
#
# Every step fails the test: a broken package cannot pass.

cmake_minimum_required(VERSION 3.16)

foreach(var MODE SOURCE_DIR WORK_DIR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "RunConsumer.cmake: -D ${var}=... is required")
    endif()
endforeach()
set(consumer_dir "${SOURCE_DIR}/tests/consumer")
string(REPLACE "|" ";" CXX_LAUNCHER "${CXX_LAUNCHER}")

# run(<what> <command>...): runs the command with its output shown; stops on failure.
function(run what)
    string(REPLACE ";" " " shown "${ARGN}")
    message(STATUS "${what}: ${shown}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "consumer (${MODE}): ${what} failed (${result})")
    endif()
endfunction()

# configure(<out-var-result> <out-var-output> <cmake args>...): configures the consumer project
# in WORK_DIR, with the same generator, compiler, launcher and build type as latent's build.
function(configure_consumer result_var output_var)
    set(args -S "${consumer_dir}" -B "${WORK_DIR}" --no-warn-unused-cli)
    if(GENERATOR)
        list(APPEND args -G "${GENERATOR}")
    endif()
    if(MAKE_PROGRAM)
        list(APPEND args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
    endif()
    if(CXX_COMPILER)
        list(APPEND args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
    endif()
    if(CXX_LAUNCHER)
        string(REPLACE ";" "\\;" launcher "${CXX_LAUNCHER}")
        list(APPEND args "-DCMAKE_CXX_COMPILER_LAUNCHER=${launcher}")
    endif()
    if(CONFIG)
        list(APPEND args "-DCMAKE_BUILD_TYPE=${CONFIG}")
    endif()
    if(EIGEN3_DIR)
        list(APPEND args "-DEigen3_DIR=${EIGEN3_DIR}")
    endif()
    string(REPLACE ";" " " shown "${args};${ARGN}")
    message(STATUS "configure: cmake ${shown}")
    execute_process(COMMAND "${CMAKE_COMMAND}" ${args} ${ARGN}
        RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    set(${result_var} "${result}" PARENT_SCOPE)
    set(${output_var} "${output}" PARENT_SCOPE)
endfunction()

# build_and_run(<cmake args>...): configure, build and run the consumer; all must succeed.
function(build_and_run)
    configure_consumer(result output ${ARGN})
    message("${output}")
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "consumer (${MODE}): configure failed (${result})")
    endif()
    set(config_args "")
    if(CONFIG)
        set(config_args --config "${CONFIG}")
    endif()
    run("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}" ${config_args})
    set(ctest_config "")
    if(CONFIG)
        set(ctest_config -C "${CONFIG}")
    endif()
    # ctest runs the program, wherever the generator put it (multi-config: a subdirectory).
    get_filename_component(cmake_bin_dir "${CMAKE_COMMAND}" DIRECTORY)
    find_program(ctest NAMES ctest HINTS "${cmake_bin_dir}")
    if(NOT ctest)
        message(FATAL_ERROR "ctest not found next to ${CMAKE_COMMAND}")
    endif()
    execute_process(COMMAND "${ctest}" --output-on-failure ${ctest_config}
        WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "consumer (${MODE}): the consumer program failed")
    endif()
endfunction()

if(MODE STREQUAL "prefix")
    foreach(var BINARY_DIR PREFIX INCLUDEDIR CMAKEDIR PKGCONFIGDIR)
        if(NOT ${var})
            message(FATAL_ERROR "RunConsumer.cmake: MODE=prefix needs -D ${var}=...")
        endif()
    endforeach()
    file(REMOVE_RECURSE "${PREFIX}")
    set(config_args "")
    if(CONFIG)
        set(config_args --config "${CONFIG}")
    endif()
    run("install" "${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${PREFIX}" ${config_args})

    set(missing "")
    foreach(file
            "${CMAKEDIR}/latentConfig.cmake"
            "${CMAKEDIR}/latentConfigVersion.cmake"
            "${CMAKEDIR}/latentTargets.cmake"
            "${PKGCONFIGDIR}/latent.pc")
        if(NOT EXISTS "${PREFIX}/${file}")
            list(APPEND missing "${file}")
        endif()
    endforeach()
    file(GLOB_RECURSE headers RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/latent/*.hpp")
    if(NOT headers)
        message(FATAL_ERROR "no headers under ${SOURCE_DIR}/include/latent")
    endif()
    foreach(header IN LISTS headers)
        if(NOT EXISTS "${PREFIX}/${INCLUDEDIR}/${header}")
            list(APPEND missing "${INCLUDEDIR}/${header}")
        endif()
    endforeach()
    if(missing)
        string(REPLACE ";" "\n  " missing "${missing}")
        message(FATAL_ERROR "not installed into ${PREFIX}:\n  ${missing}")
    endif()
    list(LENGTH headers count)
    message(STATUS "installed ${count} headers and the package files into ${PREFIX}")

elseif(MODE STREQUAL "find_package")
    file(REMOVE_RECURSE "${WORK_DIR}")
    build_and_run(-DLATENT_CONSUMER_MODE=find_package "-DCMAKE_PREFIX_PATH=${PREFIX}"
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
    # The package must have come from PREFIX, not from some other latent on this machine.
    file(STRINGS "${WORK_DIR}/CMakeCache.txt" latent_dir REGEX "^latent_DIR:")
    string(REGEX REPLACE "^latent_DIR:[A-Z]+=" "" latent_dir "${latent_dir}")
    get_filename_component(latent_dir "${latent_dir}" REALPATH)
    get_filename_component(expected "${PREFIX}/${CMAKEDIR}" REALPATH)
    if(NOT latent_dir STREQUAL expected)
        message(FATAL_ERROR "found latent in '${latent_dir}', expected '${expected}'")
    endif()

elseif(MODE STREQUAL "version")
    # SameMinorVersion before 1.0: 0.1.x serves 0.1 (see find_package mode) but neither an older
    # minor (0.0: a minor release may break the API) nor a newer one.
    foreach(wanted 0.0 0.2 1.0)
        file(REMOVE_RECURSE "${WORK_DIR}")
        configure_consumer(result output -DLATENT_CONSUMER_MODE=find_package
            "-DLATENT_CONSUMER_VERSION=${wanted}" "-DCMAKE_PREFIX_PATH=${PREFIX}"
            -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
        if(result EQUAL 0)
            message("${output}")
            message(FATAL_ERROR "find_package(latent ${wanted}) accepted latent ${VERSION}")
        endif()
        # Refused for its version, not for some other reason.
        if(NOT output MATCHES "latentConfig.cmake, version: ${VERSION}")
            message("${output}")
            message(FATAL_ERROR "find_package(latent ${wanted}) failed, but not on the version")
        endif()
        message(STATUS "find_package(latent ${wanted}) refused latent ${VERSION}, as it should")
    endforeach()

elseif(MODE STREQUAL "subdirectory" OR MODE STREQUAL "fetchcontent")
    file(REMOVE_RECURSE "${WORK_DIR}")
    build_and_run("-DLATENT_CONSUMER_MODE=${MODE}" "-DLATENT_SOURCE_DIR=${SOURCE_DIR}")

elseif(MODE STREQUAL "pkgconfig")
    foreach(var PREFIX PKGCONFIGDIR PKG_CONFIG CXX_COMPILER VERSION)
        if(NOT ${var})
            message(FATAL_ERROR "RunConsumer.cmake: MODE=pkgconfig needs -D ${var}=...")
        endif()
    endforeach()
    file(REMOVE_RECURSE "${WORK_DIR}")
    file(MAKE_DIRECTORY "${WORK_DIR}")
    # Only our prefix: PKG_CONFIG_PATH comes before the default search path, which still
    # provides eigen3.pc.
    set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${PKGCONFIGDIR}")

    execute_process(COMMAND "${PKG_CONFIG}" --modversion latent
        RESULT_VARIABLE result OUTPUT_VARIABLE modversion OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0 OR NOT modversion STREQUAL VERSION)
        message(FATAL_ERROR "pkg-config --modversion latent gave '${modversion}' (${result}), expected ${VERSION}")
    endif()
    foreach(what cflags libs)
        execute_process(COMMAND "${PKG_CONFIG}" --print-errors --${what} latent
            RESULT_VARIABLE result OUTPUT_VARIABLE ${what} OUTPUT_STRIP_TRAILING_WHITESPACE)
        if(NOT result EQUAL 0)
            message(FATAL_ERROR "pkg-config --${what} latent failed (${result})")
        endif()
        message(STATUS "pkg-config --${what} latent: ${${what}}")
        separate_arguments(${what} UNIX_COMMAND "${${what}}")
    endforeach()

    if(CONFIG MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
        set(opt -O2 -DNDEBUG)
    else()
        set(opt -O0 -g)
    endif()
    set(exe "${WORK_DIR}/consumer")
    run("compile" ${CXX_LAUNCHER} "${CXX_COMPILER}" -std=c++17 ${opt}
        -Wall -Wextra -Wpedantic -Werror ${cflags}
        "${consumer_dir}/main.cpp" -o "${exe}" ${libs})
    run("run" "${exe}")

else()
    message(FATAL_ERROR "RunConsumer.cmake: unknown MODE '${MODE}'")
endif()
