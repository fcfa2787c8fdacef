# The kcb-restore tool (see tools/CMakeLists.txt).
add_executable(kcb-restore kcb_restore.c cli_common.c)
target_link_libraries(kcb-restore PRIVATE kcb)
target_compile_options(kcb-restore PRIVATE ${KCB_WARNINGS})
target_compile_definitions(kcb-restore PRIVATE _POSIX_C_SOURCE=200809L)
install(TARGETS kcb-restore RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
