# Tests of issue 15's hostile inputs (tests/cli/hostile.sh): crafted files and flags, each class
# ending in a clear error naming the file, never a hang, a crash or a damaged file.
add_test(NAME cli_hostile
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/hostile.sh $<TARGET_FILE_DIR:kcb-train> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(cli_hostile PROPERTIES TIMEOUT 300)
kcb_test(test_hostile)
target_include_directories(test_hostile PRIVATE ${PROJECT_BINARY_DIR}/lib/proto ${PROTOBUF_C_INCLUDE_DIR})
target_link_libraries(test_hostile PRIVATE ${PROTOBUF_C_LIBRARY})
