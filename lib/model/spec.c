/* model/spec.c — a model from a compact text spec, e.g. "flatten,256:relu,dropout:0.2,10:softmax". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"

static int add_item(kcb_model *m, char *item, const char *spec) {
  char *colon = strchr(item, ':');
  char *arg = NULL;
  if (colon) {
    *colon = '\0';
    arg = colon + 1;
  }
  if (strcmp(item, "flatten") == 0 && !arg) return kcb_model_add_flatten(m);
  if (strcmp(item, "dropout") == 0) {
    char *end;
    errno = 0;
    double rate = arg ? strtod(arg, &end) : -1;
    if (!arg || *end || errno || !(rate >= 0 && rate < 1))
      return kcb__error(KCB_EINVAL, "model spec '%s': dropout needs a rate in [0, 1), as dropout:0.2", spec);
    return kcb_model_add_dropout(m, (float)rate);
  }
  if (item[0] >= '0' && item[0] <= '9') {
    char *end;
    errno = 0;
    long units = strtol(item, &end, 10);
    if (*end || errno || units <= 0 || units > 1000000)
      return kcb__error(KCB_EINVAL, "model spec '%s': '%s' is not a positive number of units", spec, item);
    kcb_dense_options d = KCB_DENSE_OPTIONS_INIT;
    d.units = (int)units;
    if (arg) {
      int rc = kcb_activation_from_name(&d.activation, arg);
      if (rc) return kcb__error(rc, "model spec '%s': %s", spec, kcb_error_last());
    }
    return kcb_model_add_dense(m, &d);
  }
  kcb_activation a;
  if (!arg && kcb_activation_from_name(&a, item) == 0) return kcb_model_add_activation(m, a);
  return kcb__error(KCB_EINVAL, "model spec '%s': unknown item '%s' (expected UNITS[:ACTIVATION], dropout:RATE, flatten or an activation)", spec, item);
}

int kcb_model_add_from_spec(kcb_model *m, const char *spec) {
  if (!spec || !*spec) return kcb__error(KCB_EINVAL, "model spec is empty");
  char *copy = strdup(spec);
  if (!copy) return kcb__error(KCB_ENOMEM, "out of memory");
  int rc = 0;
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save)) {
    while (*item == ' ') item++;
    rc = add_item(m, item, spec);
  }
  free(copy);
  return rc;
}
