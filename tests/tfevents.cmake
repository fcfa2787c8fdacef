# Tests of the tfevents area (see tests/CMakeLists.txt).
