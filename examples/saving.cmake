# Examples of the saving area (see examples/CMakeLists.txt).
