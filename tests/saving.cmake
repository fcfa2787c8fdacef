# Tests of the saving area (see tests/CMakeLists.txt).
