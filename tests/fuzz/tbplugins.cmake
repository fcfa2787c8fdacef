# Fuzz targets of the TensorBoard plugin files (see tests/fuzz/CMakeLists.txt).
list(APPEND KCB_FUZZ_TARGETS projector_config)
