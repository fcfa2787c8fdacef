# Finds kcb's dependencies (all from Debian 12) and names the package to install when one is missing.
find_package(PkgConfig QUIET)

function(kcb_missing what package)
  message(FATAL_ERROR "kcb: ${what} not found. On Debian/Ubuntu: apt-get install ${package}")
endfunction()

# OpenBLAS: cblas_sgemm for Dense and convolution layers. The library loads it at first use
# (lib/core/blas.c) and links only its header; kcb_dep_openblas (header and library) is for the
# benchmarks, which time raw sgemm.
find_path(OPENBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas openblas-pthread)
find_library(OPENBLAS_LIBRARY NAMES openblas)
if(NOT OPENBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  kcb_missing("OpenBLAS (cblas.h, libopenblas)" libopenblas-dev)
endif()
add_library(kcb_dep_openblas_header INTERFACE)
target_include_directories(kcb_dep_openblas_header INTERFACE ${OPENBLAS_INCLUDE_DIR})
target_compile_definitions(kcb_dep_openblas_header INTERFACE KCB_OPENBLAS_LIBRARY="${OPENBLAS_LIBRARY}")
target_link_libraries(kcb_dep_openblas_header INTERFACE ${CMAKE_DL_LIBS})
add_library(kcb_dep_openblas INTERFACE)
target_link_libraries(kcb_dep_openblas INTERFACE kcb_dep_openblas_header ${OPENBLAS_LIBRARY})

find_package(ZLIB QUIET)
if(NOT ZLIB_FOUND)
  kcb_missing("zlib" zlib1g-dev)
endif()

set(HDF5_PREFER_PARALLEL OFF)
find_package(HDF5 QUIET COMPONENTS C)
if(NOT HDF5_FOUND)
  kcb_missing("HDF5 (C library)" libhdf5-dev)
endif()

find_path(PROTOBUF_C_INCLUDE_DIR protobuf-c/protobuf-c.h)
find_library(PROTOBUF_C_LIBRARY NAMES protobuf-c)
if(NOT PROTOBUF_C_INCLUDE_DIR OR NOT PROTOBUF_C_LIBRARY)
  kcb_missing("protobuf-c" libprotobuf-c-dev)
endif()
find_program(PROTOC_C NAMES protoc-c protoc-gen-c)
if(NOT PROTOC_C)
  kcb_missing("the protoc-c compiler" protobuf-c-compiler)
endif()

find_package(Threads REQUIRED)
find_library(MATH_LIBRARY m)

if(KCB_BUILD_TESTS)
  find_path(CMOCKA_INCLUDE_DIR cmocka.h)
  find_library(CMOCKA_LIBRARY NAMES cmocka)
  if(NOT CMOCKA_INCLUDE_DIR OR NOT CMOCKA_LIBRARY)
    kcb_missing("cmocka (for the tests; or configure with -DKCB_BUILD_TESTS=OFF)" libcmocka-dev)
  endif()
endif()
