# Sources of the checkpoint area (see lib/CMakeLists.txt): ModelCheckpoint, BackupAndRestore, the
# Python-format file-name templates and the checkpoint ranking behind kcb-restore.
list(APPEND KCB_SOURCES
  core/pyformat.c
  callbacks/checkpoint_common.c
  callbacks/model_checkpoint.c
  callbacks/backup_and_restore.c
  model/checkpoint_rank.c
  model/checkpoint_convert.c
)
