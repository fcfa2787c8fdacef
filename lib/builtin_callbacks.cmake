# Sources of the builtin_callbacks area (see lib/CMakeLists.txt): append to KCB_SOURCES, KCB_PRIVATE_INCLUDES, KCB_PRIVATE_LIBS.
