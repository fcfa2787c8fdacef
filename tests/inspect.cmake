# Tests of the inspect area (see tests/CMakeLists.txt): the fast run summary, then kcb-inspect end
# to end (zstd's cli-tests style: command, expected output, exit code) on the PyTorch fixture,
# kcb-written logs, damaged copies, Keras checkpoints and CSV logs.
kcb_test(test_run_summary)
target_include_directories(test_run_summary PRIVATE ${KCB_JANSSON_INCLUDE_DIR})
target_link_libraries(test_run_summary PRIVATE ${KCB_JANSSON_LIBRARY})
target_compile_definitions(test_run_summary PRIVATE KCB_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data/tfevents")

# Log directories written by kcb's summary writer, with values the tests state independently.
add_executable(inspect_sample inspect_sample.c)
target_link_libraries(inspect_sample PRIVATE kcb)
target_compile_options(inspect_sample PRIVATE ${KCB_WARNINGS})

foreach(group runs events files)
  add_test(NAME cli_inspect_${group}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/inspect_${group}.sh $<TARGET_FILE:kcb-inspect>
            $<TARGET_FILE:inspect_sample> ${CMAKE_CURRENT_SOURCE_DIR}/data $<TARGET_FILE:kcb-train>)
  set_tests_properties(cli_inspect_${group} PROPERTIES TIMEOUT 120)
endforeach()
