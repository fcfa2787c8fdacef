# Examples of the builtin_callbacks area (see examples/CMakeLists.txt).
