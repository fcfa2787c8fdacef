# Benchmarks of checkpoint files (see bench/CMakeLists.txt): bench/bench_checkpoint.sh runs them.
add_executable(bench_checkpoint_gen bench_checkpoint_gen.c)
target_link_libraries(bench_checkpoint_gen PRIVATE kcb)
target_compile_options(bench_checkpoint_gen PRIVATE ${KCB_WARNINGS})
