# Tests of the TensorBoard plugin files (PR curves, custom scalars, projector, profile trace).
add_executable(tbplugins_sample tbplugins_sample.c)
target_link_libraries(tbplugins_sample PRIVATE kcb)
target_compile_options(tbplugins_sample PRIVATE ${KCB_WARNINGS})
add_test(NAME cli_tbplugins_decode
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/tbplugins_decode.sh $<TARGET_FILE_DIR:tbplugins_sample>
          ${PROJECT_SOURCE_DIR}/tests/data/tfevents ${CMAKE_CURRENT_SOURCE_DIR}/data/tbplugins)
add_test(NAME cli_tbplugins_train
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/tbplugins_train.sh $<TARGET_FILE_DIR:kcb-train>
          ${PROJECT_SOURCE_DIR}/tests/data/tfevents ${CMAKE_CURRENT_SOURCE_DIR}/data/tbplugins)
kcb_test(test_tbplugins)
add_test(NAME cli_tb_plugins_example
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/tb_plugins_example.sh $<TARGET_FILE:tb_plugins> $<TARGET_FILE:kcb-inspect>)
