# Benchmarks of the saving area (see bench/CMakeLists.txt).
