# Sources of the inspect area (see lib/CMakeLists.txt): the fast run summary behind kcb-inspect.
list(APPEND KCB_SOURCES
  io/tfevents/run_summary.c
)
