# The kcb-inspect tool (see tools/CMakeLists.txt): one command, a file per group of subcommands,
# built on kcb's public API only.
add_executable(kcb-inspect kcb_inspect.c kcb_inspect_runs.c kcb_inspect_plot.c kcb_inspect_events.c
  kcb_inspect_hparams.c kcb_inspect_files.c cli_common.c kcb_inspect_plugins.c)
target_link_libraries(kcb-inspect PRIVATE kcb Threads::Threads ${MATH_LIBRARY})
target_compile_options(kcb-inspect PRIVATE ${KCB_WARNINGS})
target_compile_definitions(kcb-inspect PRIVATE _POSIX_C_SOURCE=200809L)
install(TARGETS kcb-inspect RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# kcb-inspect starts often and reads fast, so its start-up counts: the shared libhdf5 of Debian
# loads 35 more libraries (curl, GnuTLS, Kerberos for network drivers kcb never uses), about 3.6 ms
# a run. Where the static libhdf5 is installed (Debian's libhdf5-dev ships it), kcb-inspect links
# that instead, with --as-needed so the shared one is not loaded too.
find_library(KCB_HDF5_STATIC NAMES libhdf5.a PATHS /usr/lib/x86_64-linux-gnu/hdf5/serial ${HDF5_LIBRARY_DIRS}
  NO_DEFAULT_PATH)
find_library(KCB_SZ_LIBRARY NAMES sz)
if(KCB_HDF5_STATIC AND KCB_SZ_LIBRARY AND NOT BUILD_SHARED_LIBS)
  target_link_options(kcb-inspect PRIVATE -Wl,--as-needed)
  target_link_libraries(kcb-inspect PRIVATE ${KCB_HDF5_STATIC} ${KCB_SZ_LIBRARY} ZLIB::ZLIB ${CMAKE_DL_LIBS})
endif()
