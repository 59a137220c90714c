# cmake -DDOC=<page.md> -DOUT=<file.cpp> -P DocSnippets.cmake
# Writes every ```cpp block of a documentation page into one translation unit, each block the
# body of its own function with the names the page promises in scope, so that the test build
# compiles what the documentation shows. The I/O headers are in scope too when zlib is found (a
# page that uses them needs it).
cmake_minimum_required(VERSION 3.16)
file(READ "${DOC}" text)
set(body "// Generated from ${DOC} by cmake/DocSnippets.cmake: do not edit.\n#include <latent/latent.hpp>\n#if LATENT_HAVE_ZLIB\n#include <latent/io/checkpoint.hpp>\n#include <latent/io/mnist.hpp>\n#include <latent/io/model_file.hpp>\n#endif\n\n#include <cstdio>\n\nnamespace {\n")
set(index 0)
while(TRUE)
    string(FIND "${text}" "```cpp\n" begin)
    if(begin EQUAL -1)
        break()
    endif()
    math(EXPR begin "${begin} + 7")
    string(SUBSTRING "${text}" ${begin} -1 text)
    string(FIND "${text}" "```" end)
    string(SUBSTRING "${text}" 0 ${end} snippet)
    math(EXPR end "${end} + 3")
    string(SUBSTRING "${text}" ${end} -1 text)
    string(APPEND body "[[maybe_unused]] void snippet_${index}() {\n  using namespace latent;\n  Rng rng(1);\n  Matrix<float> X(784, 256);\n  fill_uniform(X, 0.0, 1.0, rng);\n  Adam<float> adam(1e-3);\n  FitOptions options;\n  options.epochs = 1;\n${snippet}}\n\n")
    math(EXPR index "${index} + 1")
endwhile()
string(APPEND body "}  // namespace\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
