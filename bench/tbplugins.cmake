# Benchmarks of the TensorBoard plugin files (see bench/CMakeLists.txt).
add_executable(bench_tbplugins bench_tbplugins.c)
target_link_libraries(bench_tbplugins PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(bench_tbplugins PRIVATE ${KCB_WARNINGS})
target_compile_definitions(bench_tbplugins PRIVATE _POSIX_C_SOURCE=200809L)
