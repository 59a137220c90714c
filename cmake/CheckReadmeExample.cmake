# cmake -DREADME=<README.md> -DEXAMPLE=<examples/quickstart.cpp> -P CheckReadmeExample.cmake
# Fails unless the first ```cpp block of the README is exactly the example file, so the code a
# newcomer copies is the code CI compiles and runs.
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "```cpp\n" begin)
if(begin EQUAL -1)
    message(FATAL_ERROR "${README} has no ```cpp block")
endif()
math(EXPR begin "${begin} + 7")
string(SUBSTRING "${readme}" ${begin} -1 rest)
string(FIND "${rest}" "```" end)
string(SUBSTRING "${rest}" 0 ${end} snippet)
if(NOT snippet STREQUAL example)
    message(FATAL_ERROR "The first ```cpp block of ${README} differs from ${EXAMPLE}: copy the file into the README")
endif()
