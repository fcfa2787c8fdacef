# Tests of the checkpoint area (see tests/CMakeLists.txt): templates, ModelCheckpoint,
# BackupAndRestore, ranking, kcb-restore and crash/resume runs of kcb-train.
add_executable(pyformat_driver pyformat_driver.c)
target_link_libraries(pyformat_driver PRIVATE kcb)
target_include_directories(pyformat_driver PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_compile_options(pyformat_driver PRIVATE ${KCB_WARNINGS})
add_test(NAME cli_pyformat_python COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/pyformat_check.py $<TARGET_FILE:pyformat_driver>)

kcb_test(test_checkpoint)

# kcb-train killed at random moments (SIGKILL) must leave whole checkpoints and backups, and resume
# to the same final weights as an uninterrupted run. --long makes it 500 kills.
add_test(NAME cli_checkpoint_crash COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cli/checkpoint_crash.py
         $<TARGET_FILE_DIR:kcb-train> --runs 50)
set_tests_properties(cli_checkpoint_crash PROPERTIES TIMEOUT 900) # ~15 s plain, ~220 s under ASan

# kcb-restore end to end: ranking by stored values, names and CSV logs, a cut file skipped, JSON,
# exporting with read-back.
add_executable(checkpoint_make_files checkpoint_make_files.c)
target_link_libraries(checkpoint_make_files PRIVATE kcb)
target_compile_options(checkpoint_make_files PRIVATE ${KCB_WARNINGS})
target_compile_definitions(checkpoint_make_files PRIVATE _POSIX_C_SOURCE=200809L)
add_test(NAME cli_kcb_restore COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/kcb_restore.sh $<TARGET_FILE_DIR:kcb-restore>
         $<TARGET_FILE:checkpoint_make_files>)

# The model_checkpoint example: a crashed and resumed run ends with the uninterrupted run's weights.
if(KCB_BUILD_EXAMPLES)
  add_test(NAME cli_model_checkpoint_example COMMAND sh -c "d=$(mktemp -d) && $<TARGET_FILE:model_checkpoint> \"$d\" && rm -rf \"$d\"")
  set_tests_properties(cli_model_checkpoint_example PROPERTIES PASS_REGULAR_EXPRESSION "weights identical.*best: .*ckpt/w\\.[0-9][0-9]-")
endif()

# Checkpoints of any Keras model (CNN, RNN, Functional, BatchNormalization) in every layout:
# kcb-inspect, diff and kcb-restore against the zoo's expected.json and, through h5py, Keras's own files.
add_test(NAME cli_zoo_checkpoints COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/zoo_checkpoints.sh
         $<TARGET_FILE_DIR:kcb-inspect> ${CMAKE_CURRENT_SOURCE_DIR}/data)

# Checkpoints of model kinds the zoo lacks (tests/data/zoo-synth, made by its make.py in Keras's
# layouts): inspect, diff, rank, restore and convert, checked against its expected.json and h5py.
add_test(NAME cli_synth_checkpoints COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/synth_checkpoints.sh
         $<TARGET_FILE_DIR:kcb-inspect> ${CMAKE_CURRENT_SOURCE_DIR}/data $<TARGET_FILE:checkpoint_make_files>)

# The fine_tune example: the frozen base does not move, and phase 1's file loads with the base frozen.
add_test(NAME cli_fine_tune_example COMMAND sh -c "d=$(mktemp -d) && $<TARGET_FILE:fine_tune> \"$d\" && rm -rf \"$d\"")
set_tests_properties(cli_fine_tune_example PROPERTIES PASS_REGULAR_EXPRESSION
                     "phase 1: 146 of 258 parameters train.*frozen base \\(moving statistics included\\) is unchanged.*phase1.keras loads with 146 trainable.*phase 2: all 242 parameters")
