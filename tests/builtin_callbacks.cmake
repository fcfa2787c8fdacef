# Tests of the builtin_callbacks area (see tests/CMakeLists.txt).
kcb_test(test_builtin_callbacks)
kcb_test(test_csv)
target_compile_definitions(test_csv PRIVATE KCB_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/builtin_callbacks")
# A CSV written by kcb-train reads back with Python's csv module and, where LibreOffice is installed,
# converts to xlsx with the same cells (skipped with exit 77 otherwise).
add_test(NAME csv_spreadsheet COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/csv_spreadsheet.sh $<TARGET_FILE:kcb-train>)
set_tests_properties(csv_spreadsheet PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 240)
# examples/builtin_callbacks: what it prints agrees with the CSV log it writes.
add_test(NAME csv_example COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/csv_example.sh $<TARGET_FILE:builtin_callbacks>)
set_tests_properties(csv_example PROPERTIES SKIP_RETURN_CODE 77)
