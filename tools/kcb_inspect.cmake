# The kcb-inspect tool (see tools/CMakeLists.txt).
