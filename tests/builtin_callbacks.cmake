# Tests of the builtin_callbacks area (see tests/CMakeLists.txt).
