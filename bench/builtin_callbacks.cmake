# Benchmarks of the builtin_callbacks area (see bench/CMakeLists.txt).
add_executable(bench_builtin_callbacks bench_builtin_callbacks.c)
target_link_libraries(bench_builtin_callbacks PRIVATE kcb)
target_compile_options(bench_builtin_callbacks PRIVATE ${KCB_WARNINGS})
target_compile_definitions(bench_builtin_callbacks PRIVATE _POSIX_C_SOURCE=200809L)
