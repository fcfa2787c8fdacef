# Man pages (kcb-train(1), kcb-inspect(1), kcb-restore(1), kcb(3)) and bash completion, installed
# by `cmake --install` (tests/cli/install.sh checks both; tests/cli/cli_usability.sh that every
# flag a tool's --help lists is in its page). The tools' pages and completions only with the tools:
# a library-only install must not document commands it lacks.
set(kcb_man_pages kcb.3)
if(KCB_BUILD_TOOLS)
  list(APPEND kcb_man_pages kcb-train.1 kcb-inspect.1 kcb-restore.1)
endif()
foreach(page ${kcb_man_pages})
  set(VERSION ${PROJECT_VERSION})
  configure_file(${CMAKE_CURRENT_LIST_DIR}/man/${page}.in ${CMAKE_CURRENT_BINARY_DIR}/man/${page} @ONLY)
  string(REGEX MATCH "[0-9]$" section ${page})
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
if(KCB_BUILD_TOOLS)
  foreach(tool kcb-train kcb-inspect kcb-restore) # bash-completion loads a file named as the command
    install(FILES ${CMAKE_CURRENT_LIST_DIR}/completion/kcb.bash
      DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${tool})
  endforeach()
endif()
