# Sources of the saving area (see lib/CMakeLists.txt): append to KCB_SOURCES, KCB_PRIVATE_INCLUDES, KCB_PRIVATE_LIBS.
# Checkpoints in Keras layouts: HDF5 (found in cmake/KcbDependencies.cmake), libzip for .keras
# archives and jansson for model configs (both through pkg-config, else find_library).
list(APPEND KCB_SOURCES
  io/h5.c
  io/h5_guard.c
  io/h5_guard_dense.c
  io/zip.c
  io/foreign.c
  io/checkpoint_file.c
  io/checkpoint_source.c
  io/json_python.c
  model/config_json.c
  model/saving.c
)

if(HDF5_C_INCLUDE_DIRS)
  set(_kcb_hdf5_includes ${HDF5_C_INCLUDE_DIRS})
else()
  set(_kcb_hdf5_includes ${HDF5_INCLUDE_DIRS})
endif()
if(HDF5_C_LIBRARIES)
  set(_kcb_hdf5_libs ${HDF5_C_LIBRARIES})
else()
  set(_kcb_hdf5_libs ${HDF5_LIBRARIES})
endif()

# libzip and jansson: absolute library paths, so a static libkcb's users link the same files.
foreach(dep libzip jansson)
  string(TOUPPER ${dep} DEP)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(KCB_${DEP} QUIET ${dep})
  endif()
  if(dep STREQUAL "libzip")
    set(_names zip)
    set(_header zip.h)
    set(_package libzip-dev)
  else()
    set(_names jansson)
    set(_header jansson.h)
    set(_package libjansson-dev)
  endif()
  find_path(KCB_${DEP}_INCLUDE_DIR ${_header} HINTS ${KCB_${DEP}_INCLUDE_DIRS})
  find_library(KCB_${DEP}_LIBRARY NAMES ${_names} HINTS ${KCB_${DEP}_LIBRARY_DIRS})
  if(NOT KCB_${DEP}_INCLUDE_DIR OR NOT KCB_${DEP}_LIBRARY)
    kcb_missing("${dep} (${_header})" ${_package})
  endif()
  list(APPEND KCB_PRIVATE_INCLUDES ${KCB_${DEP}_INCLUDE_DIR})
  list(APPEND KCB_PRIVATE_LIBS ${KCB_${DEP}_LIBRARY})
  list(APPEND KCB_STATIC_INTERFACE ${KCB_${DEP}_LIBRARY})
endforeach()

list(APPEND KCB_PRIVATE_INCLUDES ${_kcb_hdf5_includes})
list(APPEND KCB_PRIVATE_LIBS ${_kcb_hdf5_libs})
list(APPEND KCB_STATIC_INTERFACE ${_kcb_hdf5_libs})
