// The public API compiles and links from C++ (extern "C").
#include "kcb/kcb.h"

int main() {
  kcb_logs logs;
  kcb_logs_clear(&logs);
  return kcb_logs_set(&logs, "loss", 1.0) == 0 && kcb_error_name(KCB_EINVAL)[0] == 'K' ? 0 : 1;
}
