# The README's API tour and "Writing a callback" as a program (tests/cli/readme_snippets.py keeps
# the README's blocks and this file the same, and runs it). Linked against the shared libkcb.so, as
# a program outside the tree would be: only the public API.
add_executable(readme_tour readme_tour.c)
target_link_libraries(readme_tour PRIVATE kcb_shared ${MATH_LIBRARY})
target_compile_options(readme_tour PRIVATE ${KCB_WARNINGS})
