# Examples of the tfevents area (see examples/CMakeLists.txt).
