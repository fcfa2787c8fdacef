# kcb.pc for the install's layout: its prefix found from the file's own place (${pcfiledir}, so
# the install can be moved) as many levels up as CMAKE_INSTALL_LIBDIR/pkgconfig is deep ("lib",
# Debian's "lib/x86_64-linux-gnu"); absolute install dirs are written as they are.
# kcb_write_pc(OUT): reads CMAKE_INSTALL_LIBDIR, CMAKE_INSTALL_INCLUDEDIR, PROJECT_VERSION and
# KCB_PC_LIBS_PRIVATE, writes cmake/kcb.pc.in configured to OUT.
function(kcb_write_pc out)
  file(RELATIVE_PATH up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" up "${up}")
  set(KCB_PC_PREFIX "\${pcfiledir}/${up}")
  foreach(kind LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
      set(KCB_PC_${kind} "${CMAKE_INSTALL_${kind}}")
    else()
      set(KCB_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
    endif()
  endforeach()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(KCB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  endif()
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/kcb.pc.in ${out} @ONLY)
endfunction()
