# Sources of the tfevents area (see lib/CMakeLists.txt): append to KCB_SOURCES, KCB_PRIVATE_INCLUDES, KCB_PRIVATE_LIBS.
