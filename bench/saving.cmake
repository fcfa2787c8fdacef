# Benchmarks of the saving area (see bench/CMakeLists.txt).
add_executable(bench_saving bench_saving.c)
target_link_libraries(bench_saving PRIVATE kcb)
target_compile_options(bench_saving PRIVATE ${KCB_WARNINGS})
target_compile_definitions(bench_saving PRIVATE _POSIX_C_SOURCE=200809L)
