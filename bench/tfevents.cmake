# Benchmarks of the tfevents area (see bench/CMakeLists.txt).
add_executable(bench_tfevents bench_tfevents.c)
target_link_libraries(bench_tfevents PRIVATE kcb)
target_include_directories(bench_tfevents PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_compile_options(bench_tfevents PRIVATE ${KCB_WARNINGS})
target_compile_definitions(bench_tfevents PRIVATE _POSIX_C_SOURCE=200809L)
