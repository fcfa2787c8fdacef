# Tests of the convolutional area (see tests/CMakeLists.txt).
kcb_test(test_layers)
target_include_directories(test_layers PRIVATE ${KCB_JANSSON_INCLUDE_DIR})
target_link_libraries(test_layers PRIVATE ${KCB_JANSSON_LIBRARY})
target_compile_definitions(test_layers PRIVATE KCB_ZOO_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/zoo")
set(KCB_ZOO_OUT ${CMAKE_CURRENT_BINARY_DIR}/zoo_out)
file(MAKE_DIRECTORY ${KCB_ZOO_OUT})
target_compile_definitions(test_layers PRIVATE KCB_ZOO_OUT="${KCB_ZOO_OUT}")
set_tests_properties(test_layers PROPERTIES FIXTURES_SETUP zoo_files)
# kcb's files of Keras's cnn have the structure of Keras's own (h5_describe.py, the copy of shared/tools/h5_describe.py in tests/data/saving).
add_test(NAME zoo_describe_check
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/zoo_describe_check.py ${CMAKE_CURRENT_SOURCE_DIR}/data/saving/h5_describe.py
          ${CMAKE_CURRENT_SOURCE_DIR}/data/zoo/describe ${KCB_ZOO_OUT})
set_tests_properties(zoo_describe_check PROPERTIES FIXTURES_REQUIRED zoo_files)
# examples/cnn_fashion_mnist: the files of every callback on a CNN.
add_test(NAME cnn_example COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/cnn_example.sh $<TARGET_FILE:cnn_fashion_mnist> $<TARGET_FILE:kcb-inspect>)
set_tests_properties(cnn_example PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
# kcb-train --model with the new items and the cnn preset.
add_test(NAME cnn_kcb_train COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/cnn_kcb_train.sh $<TARGET_FILE:kcb-train>)
set_tests_properties(cnn_kcb_train PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
# Every convolutional, pooling, normalization and reshaping layer and option: kcb's predictions of
# random-weight models against forward_reference.py, which recomputes them with numpy from the
# .keras files alone (config and weights as Keras reads them).
add_executable(forward_models forward_models.c)
target_link_libraries(forward_models PRIVATE kcb)
target_compile_options(forward_models PRIVATE ${KCB_WARNINGS})
set(KCB_FORWARD_OUT ${CMAKE_CURRENT_BINARY_DIR}/forward_out)
add_test(NAME forward_models_dir COMMAND sh -c "rm -rf '${KCB_FORWARD_OUT}' && mkdir -p '${KCB_FORWARD_OUT}'")
add_test(NAME forward_models_write COMMAND forward_models ${KCB_FORWARD_OUT})
set_tests_properties(forward_models_dir PROPERTIES FIXTURES_SETUP forward_dir)
set_tests_properties(forward_models_write PROPERTIES FIXTURES_REQUIRED forward_dir FIXTURES_SETUP forward_files)
add_test(NAME forward_reference COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/forward_reference.py ${KCB_FORWARD_OUT})
set_tests_properties(forward_reference PROPERTIES FIXTURES_REQUIRED forward_files SKIP_RETURN_CODE 77)
