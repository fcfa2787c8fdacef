# Sources of the distributed area (see lib/CMakeLists.txt): data-parallel fit over MPI. KCB_MPI is
# on when an MPI C library is found (Debian: libopenmpi-dev); without it a stub keeps the same API
# and kcb_distributed_new says how to get MPI. MPI stays private: no public header includes mpi.h.
find_package(MPI QUIET COMPONENTS C)
option(KCB_MPI "Build the data-parallel fit over MPI (libopenmpi-dev)" ${MPI_C_FOUND})
list(APPEND KCB_SOURCES model/distributed_common.c)
if(KCB_MPI)
  if(NOT MPI_C_FOUND)
    kcb_missing("MPI (mpi.h; or configure with -DKCB_MPI=OFF)" "libopenmpi-dev openmpi-bin")
  endif()
  list(APPEND KCB_SOURCES model/distributed.c)
  list(APPEND KCB_PRIVATE_INCLUDES ${MPI_C_INCLUDE_DIRS})
  list(APPEND KCB_PRIVATE_LIBS ${MPI_C_LIBRARIES})
  list(APPEND KCB_STATIC_INTERFACE ${MPI_C_LIBRARIES})
  message(STATUS "kcb: distributed fit over MPI (${MPI_C_LIBRARIES})")
else()
  list(APPEND KCB_SOURCES model/distributed_stub.c)
endif()
