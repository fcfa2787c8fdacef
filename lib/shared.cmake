# The installed library: a shared libkcb.so (soname libkcb.so.<major>; find_package(kcb)'s
# kcb::kcb and pkg-config's plain --libs link it), built from the objects of the static libkcb.a
# that the tools, tests and examples link; the static one is installed too (kcb::kcb_static,
# pkg-config --static) unless KCB_INSTALL_STATIC is OFF. Both are position-independent.
# libkcb.so exports the public API only: kcb.map keeps the kcb_* names global and makes every other
# symbol (kcb__ internals shared between modules, the generated protobuf-c code) local.
option(KCB_INSTALL_STATIC "Also install the static libkcb.a (kcb::kcb_static)" ON)
set_target_properties(kcb PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME kcb_static)

add_library(kcb_shared SHARED $<TARGET_OBJECTS:kcb>)
set_target_properties(kcb_shared PROPERTIES OUTPUT_NAME kcb EXPORT_NAME kcb VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR} LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/kcb.map)
target_include_directories(kcb_shared
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(kcb_shared PRIVATE $<BUILD_INTERFACE:kcb_dep_openblas_header> ${CMAKE_DL_LIBS} ZLIB::ZLIB Threads::Threads
  ${MATH_LIBRARY} ${KCB_PRIVATE_LIBS})
target_link_options(kcb_shared PRIVATE -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/kcb.map)
if(NOT KCB_SANITIZE AND NOT KCB_FUZZ)
  # every symbol resolved at link time; sanitizer runtimes come with the executable (clang's are
  # static and linked only into programs), so instrumented builds leave theirs to load time
  target_link_options(kcb_shared PRIVATE -Wl,--no-undefined)
endif()

install(TARGETS kcb_shared EXPORT kcbTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development)
if(KCB_INSTALL_STATIC)
  install(TARGETS kcb EXPORT kcbTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
