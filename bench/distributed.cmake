# Benchmarks of the distributed area (see bench/CMakeLists.txt): needs MPI (KCB_MPI).
if(KCB_MPI)
  find_package(MPI QUIET COMPONENTS C)
  add_executable(bench_distributed bench_distributed.c)
  target_link_libraries(bench_distributed PRIVATE kcb kcb_dep_openblas MPI::MPI_C ${MATH_LIBRARY})
  target_compile_options(bench_distributed PRIVATE ${KCB_WARNINGS})
  target_compile_definitions(bench_distributed PRIVATE _POSIX_C_SOURCE=200809L)
endif()
