# Tests of the distributed area (see tests/CMakeLists.txt). Without MPI only the parts that need no
# job run; with KCB_MPI, real jobs of 1, 2 and 3 processes on this machine (`--oversubscribe`: CI
# may have fewer cores). Every wait is bounded twice: mpirun's --timeout ends a job whose rank hangs
# and ctest's TIMEOUT ends anything else, so a failing rank fails its test instead of hanging CI.
# CI runs as root, which mpirun refuses unless told twice.
kcb_test(test_distributed)
if(KCB_MPI)
  target_compile_definitions(test_distributed PRIVATE KCB_TEST_MPI=1)
else()
  target_compile_definitions(test_distributed PRIVATE KCB_TEST_MPI=0)
endif()
if(KCB_MPI)
  find_package(MPI QUIET COMPONENTS C)
  set(KCB_MPI_ENV "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1;OMPI_MCA_rmaps_base_oversubscribe=1")
  # Open MPI keeps allocations for the process's life; its plug-ins stay loaded so LeakSanitizer can name them.
  list(APPEND KCB_MPI_ENV "OMPI_MCA_mca_base_component_disable_dlclose=1")
  if(KCB_SANITIZE)
    # Open MPI's libraries have no frame pointers: the slow unwinder finds them on the stack.
    list(APPEND KCB_MPI_ENV "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/distributed/lsan.supp"
      "ASAN_OPTIONS=fast_unwind_on_malloc=0")
  endif()
  add_executable(distributed_check distributed/distributed_check.c)
  target_link_libraries(distributed_check PRIVATE kcb ${CMOCKA_LIBRARY} MPI::MPI_C ${MATH_LIBRARY})
  target_include_directories(distributed_check PRIVATE ${CMOCKA_INCLUDE_DIR} ${PROJECT_SOURCE_DIR}/lib)
  target_compile_options(distributed_check PRIVATE ${KCB_WARNINGS})
  target_compile_definitions(distributed_check PRIVATE _POSIX_C_SOURCE=200809L) # as every test: mkdtemp
  foreach(np 1 2 3)
    add_test(NAME distributed_np${np}
      COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe --timeout 100 -np ${np} $<TARGET_FILE:distributed_check>)
    set_tests_properties(distributed_np${np} PROPERTIES TIMEOUT 120 ENVIRONMENT "${KCB_MPI_ENV}")
  endforeach()
  # kcb-train under mpirun: the same result and the same files as one process, written once; a rank
  # killed mid-epoch ends the job within seconds and the rerun resumes from the backup.
  add_test(NAME cli_kcb_train_mpi COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/kcb_train_mpi.sh
    $<TARGET_FILE_DIR:kcb-train> ${MPIEXEC_EXECUTABLE})
  set_tests_properties(cli_kcb_train_mpi PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77 ENVIRONMENT "${KCB_MPI_ENV}")
  # examples/distributed_fashion_mnist on 2 processes: it trains, rank 0 alone prints and writes its files.
  add_test(NAME distributed_example
    COMMAND sh -c "[ -d /usr/share/datasets/fashion-mnist ] || exit 77; d=$(mktemp -d) && ${MPIEXEC_EXECUTABLE} --oversubscribe --timeout 200 -np 2 \
      $<TARGET_FILE:distributed_fashion_mnist> '' 3000 \"$d\" 2 >\"$d/out\" 2>&1; s=$?; cat \"$d/out\";
      [ $s -eq 0 ] && [ $(grep -c '^test_loss=.* (2 processes;' \"$d/out\") -eq 1 ] &&
      [ $(grep -c '^epoch [12] on 2 processes' \"$d/out\") -eq 2 ] && [ -s \"$d/best.weights.h5\" ] &&
      [ $(wc -l <\"$d/distributed_log.csv\") -eq 3 ]; r=$?; rm -rf \"$d\"; exit $r")
  set_tests_properties(distributed_example PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77 ENVIRONMENT "${KCB_MPI_ENV}")
endif()
