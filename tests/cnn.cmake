# Tests of the convolutional area (see tests/CMakeLists.txt).
kcb_test(test_layers)
target_include_directories(test_layers PRIVATE ${KCB_JANSSON_INCLUDE_DIR})
target_link_libraries(test_layers PRIVATE ${KCB_JANSSON_LIBRARY})
target_compile_definitions(test_layers PRIVATE KCB_ZOO_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/keras_zoo")
