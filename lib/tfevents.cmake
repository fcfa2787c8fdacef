# Sources of the tfevents area (see lib/CMakeLists.txt): TensorBoard event files (proto/ compiled by
# protoc-c into the build tree), the summary writer, the reader and the TensorBoard callback.
set(KCB_PROTO_DIR ${PROJECT_SOURCE_DIR}/proto)
set(KCB_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/proto)
set(KCB_PROTO_NAMES tensor summary event struct plugins tb_plugins)
set(KCB_PROTO_SOURCES "")
set(KCB_PROTO_FILES "")
foreach(p ${KCB_PROTO_NAMES})
  list(APPEND KCB_PROTO_SOURCES ${KCB_PROTO_OUT}/${p}.pb-c.c)
  list(APPEND KCB_PROTO_FILES ${KCB_PROTO_DIR}/${p}.proto)
endforeach()
set(KCB_PROTO_OUTPUTS ${KCB_PROTO_SOURCES})
foreach(p ${KCB_PROTO_NAMES})
  list(APPEND KCB_PROTO_OUTPUTS ${KCB_PROTO_OUT}/${p}.pb-c.h)
endforeach()
add_custom_command(
  OUTPUT ${KCB_PROTO_OUTPUTS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${KCB_PROTO_OUT}
  COMMAND ${PROTOC_C} -I${KCB_PROTO_DIR} --c_out=${KCB_PROTO_OUT} ${KCB_PROTO_FILES}
  DEPENDS ${KCB_PROTO_FILES}
  COMMENT "protoc-c: TensorBoard messages (proto/*.proto)"
  VERBATIM)
# Generated code is not ours to keep warning-free.
set_source_files_properties(${KCB_PROTO_SOURCES} PROPERTIES GENERATED TRUE COMPILE_OPTIONS "-w")

list(APPEND KCB_SOURCES
  ${KCB_PROTO_SOURCES}
  io/tfevents/crc32c.c
  io/tfevents/record.c
  io/tfevents/event_writer.c
  io/tfevents/wav.c
  io/tfevents/reader.c
  io/tfevents/pb_depth.c
  io/tfevents/summary_writer.c
  io/tfevents/tb_plugins.c
  io/tfevents/projector.c
  io/profile_trace.c
  callbacks/tensorboard.c
)
# (model/config_json.c, which write_graph uses, and jansson come with lib/saving.cmake.)
list(APPEND KCB_PRIVATE_INCLUDES ${KCB_PROTO_OUT} ${PROTOBUF_C_INCLUDE_DIR})
list(APPEND KCB_PRIVATE_LIBS ${PROTOBUF_C_LIBRARY})
list(APPEND KCB_STATIC_INTERFACE ${PROTOBUF_C_LIBRARY})
