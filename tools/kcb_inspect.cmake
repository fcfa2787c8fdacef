# The kcb-inspect tool (see tools/CMakeLists.txt): one command, a file per group of subcommands,
# built on kcb's public API only.
add_executable(kcb-inspect kcb_inspect.c kcb_inspect_runs.c kcb_inspect_plot.c kcb_inspect_events.c
  kcb_inspect_hparams.c kcb_inspect_files.c)
target_link_libraries(kcb-inspect PRIVATE kcb Threads::Threads ${MATH_LIBRARY})
target_compile_options(kcb-inspect PRIVATE ${KCB_WARNINGS})
target_compile_definitions(kcb-inspect PRIVATE _POSIX_C_SOURCE=200809L)
install(TARGETS kcb-inspect RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
