# Examples of the distributed area (see examples/CMakeLists.txt): built with or without MPI (alone,
# the program trains in one process); tests/distributed.cmake runs it under mpirun.
add_executable(distributed_fashion_mnist distributed_fashion_mnist.c)
target_link_libraries(distributed_fashion_mnist PRIVATE kcb ${MATH_LIBRARY})
target_compile_options(distributed_fashion_mnist PRIVATE ${KCB_WARNINGS})
