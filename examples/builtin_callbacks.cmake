# Examples of the builtin_callbacks area (see examples/CMakeLists.txt).
add_executable(builtin_callbacks builtin_callbacks.c)
target_link_libraries(builtin_callbacks PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(builtin_callbacks PRIVATE ${KCB_WARNINGS})
target_compile_definitions(builtin_callbacks PRIVATE _POSIX_C_SOURCE=200809L)
