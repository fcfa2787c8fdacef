# Examples of the TensorBoard plugin files (see examples/CMakeLists.txt).
add_executable(tb_plugins tb_plugins.c)
target_link_libraries(tb_plugins PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(tb_plugins PRIVATE ${KCB_WARNINGS})
target_compile_definitions(tb_plugins PRIVATE _POSIX_C_SOURCE=200809L)
