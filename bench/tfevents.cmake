# Benchmarks of the tfevents area (see bench/CMakeLists.txt).
