/* kcb/kcb.h — the whole public API of kcb. */
#ifndef KCB_KCB_H
#define KCB_KCB_H
#include "kcb/version.h"
#include "kcb/error.h"
#include "kcb/tensor.h"
#include "kcb/logs.h"
#include "kcb/callback.h"
#include "kcb/monitor.h"
#include "kcb/model.h"
#include "kcb/layers.h"
#include "kcb/dataset.h"
#include "kcb/plot.h"
#include "kcb/csv.h"
#include "kcb/builtin_callbacks.h"
#include "kcb/saving.h"
#include "kcb/checkpoint_file.h"
#include "kcb/tfevents.h"
#include "kcb/summary_writer.h"
#include "kcb/tensorboard.h"
#include "kcb/tb_plugins.h"
#include "kcb/checkpoint.h"
#include "kcb/run_summary.h"
#include "kcb/file.h"
#include "kcb/limits.h"
#include "kcb/text.h"
#include "kcb/distributed.h"

#endif
