# Examples of the tfevents area (see examples/CMakeLists.txt).
add_executable(tensorboard tensorboard.c)
target_link_libraries(tensorboard PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(tensorboard PRIVATE ${KCB_WARNINGS})
target_compile_definitions(tensorboard PRIVATE _POSIX_C_SOURCE=200809L)
