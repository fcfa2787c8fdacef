# Examples of the saving area (see examples/CMakeLists.txt).
add_executable(checkpoint checkpoint.c)
target_link_libraries(checkpoint PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(checkpoint PRIVATE ${KCB_WARNINGS})
target_compile_definitions(checkpoint PRIVATE _POSIX_C_SOURCE=200809L)

# ModelCheckpoint + BackupAndRestore + ranking (the checkpoint area).
add_executable(model_checkpoint model_checkpoint.c)
target_link_libraries(model_checkpoint PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(model_checkpoint PRIVATE ${KCB_WARNINGS})
target_compile_definitions(model_checkpoint PRIVATE _POSIX_C_SOURCE=200809L)

# Fine-tuning with frozen layers (Keras's layer.trainable = False), in two phases.
add_executable(fine_tune fine_tune.c)
target_link_libraries(fine_tune PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(fine_tune PRIVATE ${KCB_WARNINGS})
target_compile_definitions(fine_tune PRIVATE _POSIX_C_SOURCE=200809L)
