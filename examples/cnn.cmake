# Examples of the convolutional area (see examples/CMakeLists.txt).
add_executable(cnn_fashion_mnist cnn_fashion_mnist.c)
target_link_libraries(cnn_fashion_mnist PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(cnn_fashion_mnist PRIVATE ${KCB_WARNINGS})
target_compile_definitions(cnn_fashion_mnist PRIVATE _POSIX_C_SOURCE=200809L)
