# Sources of the convolutional area (see lib/CMakeLists.txt): convolution, pooling, normalization
# and reshaping layers beside Dense in lib/model/.
list(APPEND KCB_SOURCES
  model/conv.c
  model/conv_direct.c
  model/pooling.c
  model/normalization.c
  model/reshape.c
  model/layer_config.c
)
# The direct convolution loops' AVX2 and AVX-512 forms fuse multiply and add (the baseline has no
# fused instruction); the rest of the library keeps ISO C's unfused arithmetic.
set_source_files_properties(model/conv_direct.c PROPERTIES COMPILE_OPTIONS "-ffp-contract=fast")
