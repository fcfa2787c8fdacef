# Sources of the builtin_callbacks area (see lib/CMakeLists.txt): append to KCB_SOURCES, KCB_PRIVATE_INCLUDES, KCB_PRIVATE_LIBS.
list(APPEND KCB_SOURCES
  io/csv.c
  model/snapshot.c
  callbacks/csv_logger.c
  callbacks/early_stopping.c
  callbacks/lr_scheduler.c
  callbacks/reduce_lr_on_plateau.c
  callbacks/terminate_on_nan.c
)
