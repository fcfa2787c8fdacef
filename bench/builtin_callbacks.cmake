# Benchmarks of the builtin_callbacks area (see bench/CMakeLists.txt).
