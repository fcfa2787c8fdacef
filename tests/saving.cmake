# Tests of the saving area (see tests/CMakeLists.txt).
kcb_test(test_saving)
# The test writes foreign / Keras-2-style HDF5 files itself and reads expected.json: it uses
# HDF5 and jansson directly (found by lib/saving.cmake).
if(HDF5_C_INCLUDE_DIRS)
  target_include_directories(test_saving PRIVATE ${HDF5_C_INCLUDE_DIRS} ${KCB_JANSSON_INCLUDE_DIR})
  target_link_libraries(test_saving PRIVATE ${HDF5_C_LIBRARIES} ${KCB_JANSSON_LIBRARY})
else()
  target_include_directories(test_saving PRIVATE ${HDF5_INCLUDE_DIRS} ${KCB_JANSSON_INCLUDE_DIR})
  target_link_libraries(test_saving PRIVATE ${HDF5_LIBRARIES} ${KCB_JANSSON_LIBRARY})
endif()
target_compile_definitions(test_saving PRIVATE KCB_SAVING_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/saving")

# Any checkpoint as data (kcb/checkpoint_file.h), on files the test writes with HDF5's C API.
kcb_test(test_checkpoint_file)
if(HDF5_C_INCLUDE_DIRS)
  target_include_directories(test_checkpoint_file PRIVATE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(test_checkpoint_file PRIVATE ${HDF5_C_LIBRARIES})
else()
  target_include_directories(test_checkpoint_file PRIVATE ${HDF5_INCLUDE_DIRS})
  target_link_libraries(test_checkpoint_file PRIVATE ${HDF5_LIBRARIES})
endif()

# kcb's files against Keras's, read by independent tools (h5py, h5dump, zipfile).
add_executable(saving_write_fixture test_saving_fixture_writer.c)
target_link_libraries(saving_write_fixture PRIVATE kcb)
target_compile_options(saving_write_fixture PRIVATE ${KCB_WARNINGS})
add_test(NAME cli_saving_structure
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/saving_structure.py
          $<TARGET_FILE:saving_write_fixture> ${CMAKE_CURRENT_SOURCE_DIR}/data/saving)

# kcb-train --initial-weights / --save, end to end.
add_test(NAME cli_saving_kcb_train
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/saving_kcb_train.sh $<TARGET_FILE_DIR:kcb-train> ${CMAKE_CURRENT_SOURCE_DIR}/data/saving)

# The checkpoint example runs and its restored model trains exactly like the original.
if(KCB_BUILD_EXAMPLES)
  add_test(NAME cli_saving_example COMMAND sh -c "d=$(mktemp -d) && $<TARGET_FILE:checkpoint> \"$d\" && rm -rf \"$d\"")
  set_tests_properties(cli_saving_example PROPERTIES PASS_REGULAR_EXPRESSION "restored from model.keras [0-9.]+ \\(identical\\)")
endif()

# Corrupt HDF5 global heaps are refused before libhdf5 follows them (lib/io/h5_guard.c).
kcb_test(test_h5_guard)
target_include_directories(test_h5_guard PRIVATE ${KCB_LIBZIP_INCLUDE_DIR})
target_link_libraries(test_h5_guard PRIVATE ${KCB_LIBZIP_LIBRARY})
target_compile_definitions(test_h5_guard PRIVATE KCB_SAVING_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/saving"
                           KCB_H5_REGRESSIONS="${CMAKE_CURRENT_SOURCE_DIR}/fuzz/regressions/checkpoint_h5")

# New-style groups and dense link/attribute storage (h5py's track_order / libver='latest' files,
# tests/data/saving/h5_dense_make.py) read, and refused when corrupt (lib/io/h5_guard_dense.c).
kcb_test(test_h5_dense)
target_compile_definitions(test_h5_dense PRIVATE KCB_SAVING_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/saving"
                           KCB_H5_CORPUS="${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/checkpoint_h5")
