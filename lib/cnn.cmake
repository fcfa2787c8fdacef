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
