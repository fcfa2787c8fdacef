# The command line as people use it (issue 16): Ctrl-C and resume on a pseudo-terminal, and the
# tools' flags, messages and suggestions.
if(NOT KCB_SANITIZE)
  # ASan's own signal handling and slow start would blur the timing of Ctrl-C on a pty
  add_test(NAME cli_interrupt_resume COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/interrupt_resume.py
    $<TARGET_FILE_DIR:kcb-train>)
  set_tests_properties(cli_interrupt_resume PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
add_test(NAME cli_usability COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/cli_usability.sh $<TARGET_FILE_DIR:kcb-train>)
if(KCB_BUILD_EXAMPLES)
  add_test(NAME readme_snippets COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/readme_snippets.py
    ${PROJECT_SOURCE_DIR} $<TARGET_FILE:readme_tour>)
endif()
add_test(NAME cli_odd_summaries COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/odd_summaries.py
  $<TARGET_FILE:kcb-inspect>)
add_test(NAME cli_int_scalars COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/int_scalars.py
  $<TARGET_FILE:kcb-inspect> ${PROJECT_SOURCE_DIR})
add_test(NAME cli_histogram_formats COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/histogram_formats.py
  $<TARGET_FILE_DIR:kcb-train> ${PROJECT_SOURCE_DIR})
set_tests_properties(cli_histogram_formats PROPERTIES SKIP_RETURN_CODE 77)
