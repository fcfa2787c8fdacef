# Benchmarks of the inspect area (see bench/CMakeLists.txt): bench/bench_inspect.sh BUILD_DIR runs
# kcb-inspect runs / validate on a ~1 GB log directory written by this generator, against cat.
add_executable(bench_inspect_gen bench_inspect_gen.c)
target_link_libraries(bench_inspect_gen PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(bench_inspect_gen PRIVATE ${KCB_WARNINGS})
