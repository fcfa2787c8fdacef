# Benchmarks of the convolutional area (see bench/CMakeLists.txt); bench/run_cnn_benchmarks.sh
# runs them beside bench/torch_cnn.py.
add_executable(bench_cnn bench_cnn.c)
target_link_libraries(bench_cnn PRIVATE kcb kcb_dep_openblas)
target_include_directories(bench_cnn PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_compile_options(bench_cnn PRIVATE ${KCB_WARNINGS})
target_compile_definitions(bench_cnn PRIVATE _POSIX_C_SOURCE=200809L)
