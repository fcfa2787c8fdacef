# Tests of the tfevents area (see tests/CMakeLists.txt).
kcb_test(test_tfevents)
target_include_directories(test_tfevents PRIVATE ${PROJECT_BINARY_DIR}/lib/proto ${PROTOBUF_C_INCLUDE_DIR})
target_link_libraries(test_tfevents PRIVATE ${PROTOBUF_C_LIBRARY})
kcb_test(test_tfevents_reader)
target_include_directories(test_tfevents_reader PRIVATE ${JANSSON_INCLUDE_DIR})
target_link_libraries(test_tfevents_reader PRIVATE ${JANSSON_LIBRARY})
target_compile_definitions(test_tfevents_reader PRIVATE KCB_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data/tfevents")
# Every summary kind decoded by independent tools (protoc, pngcheck, Python's wave).
add_executable(tfevents_sample tfevents_sample.c)
target_link_libraries(tfevents_sample PRIVATE kcb)
target_compile_options(tfevents_sample PRIVATE ${KCB_WARNINGS})
add_test(NAME cli_tfevents_decode
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/tfevents_decode.sh $<TARGET_FILE_DIR:tfevents_sample>
          ${CMAKE_CURRENT_SOURCE_DIR}/data/tfevents)
kcb_test(test_tensorboard)
target_include_directories(test_tensorboard PRIVATE ${JANSSON_INCLUDE_DIR})
target_link_libraries(test_tensorboard PRIVATE ${JANSSON_LIBRARY})
add_test(NAME cli_tensorboard_example COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/tensorboard_example.sh $<TARGET_FILE:tensorboard>)
