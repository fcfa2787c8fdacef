# The kcb-restore tool (see tools/CMakeLists.txt).
