# Writes kcb.pc as the install does, for a layout given on the command line (tests/cli/install.sh):
# cmake -DCMAKE_INSTALL_LIBDIR=... -DCMAKE_INSTALL_INCLUDEDIR=... -DPROJECT_VERSION=... -DOUT=... -P write_pc.cmake
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/kcb_pc.cmake)
kcb_write_pc(${OUT})
