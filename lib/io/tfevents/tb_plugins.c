/* io/tfevents/tb_plugins.c — PR curves (plugin "pr_curves") and the custom-scalars layout
 * (plugin "custom_scalars") as TensorBoard's plugins read them (spec/tfevents.md §3.7, §3.9). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kcb/text.h"
#include "io/tfevents/summary_writer_internal.h"
#include "kcb/tb_plugins.h"
#include "tb_plugins.pb-c.h"

/* ---- PR curves ------------------------------------------------------------------------------ */

int kcb_pr_curve_compute(float *out, int num_thresholds, const float *labels, size_t label_stride,
                         const float *predictions, size_t pred_stride, const float *weights, size_t n) {
  if (num_thresholds < 2 || num_thresholds > KCB_PR_CURVE_MAX_THRESHOLDS)
    return kcb__error(KCB_EINVAL, "PR curve: %d thresholds (need 2 to %d)", num_thresholds,
                      KCB_PR_CURVE_MAX_THRESHOLDS);
  if (n && (!labels || !predictions)) return kcb__error(KCB_EINVAL, "PR curve: no labels or predictions");
  size_t t = (size_t)num_thresholds;
  double *buckets = calloc(2 * t, sizeof *buckets); /* positives, then negatives, per bucket */
  if (!buckets) return kcb__error(KCB_ENOMEM, "PR curve: out of memory");
  /* TensorBoard multiplies in float32: floor(p * (T - 1)) */
  const float scale = (float)(num_thresholds - 1);
  for (size_t k = 0; k < n; k++) {
    float p = predictions[k * pred_stride];
    if (!(p >= 0.0f && p <= 1.0f)) {
      free(buckets);
      return kcb__error(KCB_EINVAL, "PR curve: prediction %g of sample %zu is not in [0, 1]", (double)p, k);
    }
    double wk = 1.0;
    if (weights) {
      wk = weights[k];
      if (!(wk >= 0 && isfinite(wk))) {
        free(buckets);
        return kcb__error(KCB_EINVAL, "PR curve: weight %g of sample %zu is not a finite number >= 0", wk, k);
      }
    }
    size_t b = (size_t)floorf(p * scale);
    buckets[(labels[k * label_stride] != 0.0f ? 0 : t) + b] += wk;
  }
  /* reversed cumulative sums: TP[i], FP[i] count the samples in buckets >= i */
  double tp = 0, fp = 0;
  for (size_t i = t; i-- > 0;) {
    tp += buckets[i];
    fp += buckets[t + i];
    buckets[i] = tp;
    buckets[t + i] = fp;
  }
  for (size_t i = 0; i < t; i++) {
    double TP = buckets[i], FP = buckets[t + i], TN = fp - FP, FN = tp - TP;
    out[KCB_PR_TP * t + i] = (float)TP;
    out[KCB_PR_FP * t + i] = (float)FP;
    out[KCB_PR_TN * t + i] = (float)TN;
    out[KCB_PR_FN * t + i] = (float)FN;
    out[KCB_PR_PRECISION * t + i] = (float)(TP / fmax(1e-7, TP + FP));
    out[KCB_PR_RECALL * t + i] = (float)(TP / fmax(1e-7, TP + FN));
  }
  free(buckets);
  return 0;
}

/* A PR curve tensor as floats in memory or as little-endian bytes from a file. */
typedef struct pr_source {
  const float *f;
  const uint8_t *b;
  int t;
} pr_source;

static float pr_get(const pr_source *s, int row, int i) {
  size_t at = (size_t)row * (size_t)s->t + (size_t)i;
  if (s->f) return s->f[at];
  const uint8_t *p = s->b + 4 * at;
  uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  float v;
  memcpy(&v, &bits, 4);
  return v;
}

/* Trapezoids of precision over recall between consecutive thresholds (recall falls as i rises),
 * over the thresholds some prediction reaches (above them precision is 0/0, which TensorBoard
 * plots as 0); the last such point is carried to recall 0 at its precision. */
static double pr_auc(const pr_source *s) {
  double auc = 0, r_prev = 0, p_prev = 0;
  int have = 0;
  for (int i = 0; i < s->t; i++) {
    if (pr_get(s, KCB_PR_TP, i) + pr_get(s, KCB_PR_FP, i) <= 0) break;
    double r = pr_get(s, KCB_PR_RECALL, i), p = pr_get(s, KCB_PR_PRECISION, i);
    if (have) auc += (r_prev - r) * (p_prev + p) / 2;
    r_prev = r, p_prev = p, have = 1;
  }
  return have ? auc + r_prev * p_prev : 0.0;
}

double kcb_pr_curve_auc(const float *data, int num_thresholds) {
  pr_source s = {data, NULL, num_thresholds};
  return data && num_thresholds > 1 ? pr_auc(&s) : NAN;
}

float kcb_pr_curve_view_get(const kcb_pr_curve_view *pr, int row, int i) {
  pr_source s = {NULL, pr->data, pr->num_thresholds};
  return pr_get(&s, row, i);
}

int kcb_summary_writer_add_pr_curve_raw(kcb_summary_writer *w, const char *tag, const float *data, int num_thresholds,
                                        int64_t step) {
  KCB__WRITER_GIVEN(w);
  if (num_thresholds < 2 || num_thresholds > KCB_PR_CURVE_MAX_THRESHOLDS || !data)
    return kcb__error(KCB_EINVAL, "PR curve '%s': %d thresholds (need 2 to %d) or no data", tag ? tag : "",
                      num_thresholds, KCB_PR_CURVE_MAX_THRESHOLDS);
  Kcbpb__PrCurvePluginData pd = KCBPB__PR_CURVE_PLUGIN_DATA__INIT;
  pd.num_thresholds = (uint32_t)num_thresholds;
  uint8_t content[16];
  size_t len = kcbpb__pr_curve_plugin_data__pack(&pd, content);
  /* data class tensor: rustboard drops a plugin it does not know without one */
  return kcb__summary_writer_add_float_tensor(w, tag, data, 6, num_thresholds, "pr_curves", content, len, 2, step);
}

int kcb_summary_writer_add_pr_curve(kcb_summary_writer *w, const char *tag, const float *labels,
                                    const float *predictions, const float *weights, size_t n, int num_thresholds,
                                    int64_t step) {
  KCB__WRITER_GIVEN(w);
  int t = num_thresholds ? num_thresholds : KCB_PR_CURVE_DEFAULT_THRESHOLDS;
  if (t < 2 || t > KCB_PR_CURVE_MAX_THRESHOLDS)
    return kcb__error(KCB_EINVAL, "PR curve '%s': %d thresholds (need 2 to %d)", tag ? tag : "", t,
                      KCB_PR_CURVE_MAX_THRESHOLDS);
  float *data = malloc(6 * (size_t)t * sizeof *data);
  if (!data) return kcb__error(KCB_ENOMEM, "PR curve: out of memory");
  int rc = kcb_pr_curve_compute(data, t, labels, 1, predictions, 1, weights, n);
  if (rc) rc = kcb__error(rc, "PR curve '%s': %s", tag ? tag : "", kcb_error_last());
  else rc = kcb_summary_writer_add_pr_curve_raw(w, tag, data, t, step);
  free(data);
  return rc;
}

int kcb_summary_writer_add_pr_curves_multiclass(kcb_summary_writer *w, const char *tag_prefix,
                                                const char *const *class_names, size_t n_classes,
                                                const float *class_index, const float *probabilities, size_t n,
                                                int num_thresholds, int64_t step) {
  KCB__WRITER_GIVEN(w);
  int t = num_thresholds ? num_thresholds : KCB_PR_CURVE_DEFAULT_THRESHOLDS;
  if (t < 2 || t > KCB_PR_CURVE_MAX_THRESHOLDS || n_classes == 0 || (n && (!class_index || !probabilities)))
    return kcb__error(KCB_EINVAL, "PR curves: %d thresholds (need 2 to %d), %zu classes, %zu samples", t,
                      KCB_PR_CURVE_MAX_THRESHOLDS, n_classes, n);
  /* one tag a class: two classes of one name would write one curve over the other */
  for (size_t a = 1; class_names && a < n_classes; a++)
    for (size_t b = 0; class_names[a] && b < a; b++)
      if (class_names[b] && strcmp(class_names[a], class_names[b]) == 0) {
        char shown[256];
        kcb_text_escape(shown, sizeof shown, class_names[a], strlen(class_names[a]), 0);
        return kcb__error(KCB_EINVAL, "PR curves: classes %zu and %zu are both named '%s' (their curves would share a tag)",
                          b, a, shown);
      }
  float *data = malloc(6 * (size_t)t * sizeof *data);
  float *onehot = malloc((n + 1) * n_classes * sizeof *onehot);
  char *tag = NULL;
  int rc = 0;
  if (!data || !onehot) {
    rc = kcb__error(KCB_ENOMEM, "PR curves: out of memory");
    goto done;
  }
  /* one-hot labels, so that each class is one strided column, as its predictions are */
  memset(onehot, 0, (n + 1) * n_classes * sizeof *onehot);
  for (size_t k = 0; k < n; k++) {
    float c = class_index[k];
    if (!(c >= 0 && c < (float)n_classes) || c != floorf(c)) {
      rc = kcb__error(KCB_EINVAL, "PR curves: sample %zu has class %g, not one of 0..%zu", k, (double)c, n_classes - 1);
      goto done;
    }
    onehot[k * n_classes + (size_t)c] = 1.0f;
  }
  size_t prefix_len = tag_prefix ? strlen(tag_prefix) : 0;
  for (size_t c = 0; c < n_classes && !rc; c++) {
    char number[24];
    snprintf(number, sizeof number, "%zu", c);
    const char *name = class_names && class_names[c] ? class_names[c] : number;
    free(tag);
    if (!(tag = malloc(prefix_len + strlen(name) + 1))) {
      rc = kcb__error(KCB_ENOMEM, "PR curves: out of memory");
      break;
    }
    memcpy(tag, tag_prefix ? tag_prefix : "", prefix_len);
    strcpy(tag + prefix_len, name);
    if ((rc = kcb_pr_curve_compute(data, t, onehot + c, n_classes, probabilities + c, n_classes, NULL, n)))
      rc = kcb__error(rc, "PR curve '%s': %s", tag, kcb_error_last());
    else
      rc = kcb_summary_writer_add_pr_curve_raw(w, tag, data, t, step);
  }
done:
  free(tag);
  free(data);
  free(onehot);
  return rc;
}

int kcb_pr_curve_from_value(const kcb_summary_value *v, kcb_pr_curve_view *out) {
  if (!v || strcmp(v->plugin_name, "pr_curves") != 0)
    return kcb__error(KCB_EFORMAT, "PR curve: '%s' is not a pr_curves summary", v ? v->tag : "");
  /* TensorBoard's plugin takes the thresholds from the tensor's width, whatever the plugin data's
   * num_thresholds or version say (tensorboardX's add_pr_curve_raw writes 127 for any width) */
  if (v->dtype != KCB_DT_FLOAT || v->rank != 2 || v->shape[0] != 6 || v->shape[1] < 1 ||
      v->shape[1] > KCB_PR_CURVE_MAX_THRESHOLDS || v->tensor_content.len != 24 * (size_t)v->shape[1])
    return kcb__error(KCB_EFORMAT, "PR curve '%s': expected a DT_FLOAT [6, T] tensor, T from 1 to %d (dtype %d, rank %d%s)",
                      v->tag, KCB_PR_CURVE_MAX_THRESHOLDS, v->dtype, v->rank,
                      v->rank == 2 && v->shape[0] != 6 ? ", not 6 rows" : "");
  out->num_thresholds = (int)v->shape[1];
  out->data = v->tensor_content.data;
  return 0;
}

/* ---- custom scalars ------------------------------------------------------------------------- */

int kcb_summary_writer_add_custom_scalars(kcb_summary_writer *w, const kcb_custom_category *categories,
                                          size_t n_categories, int64_t step) {
  KCB__WRITER_GIVEN(w);
  if (!categories || n_categories == 0) return kcb__error(KCB_EINVAL, "custom scalars: no categories");
  size_t n_charts = 0, n_series = 0;
  for (size_t c = 0; c < n_categories; c++) {
    const kcb_custom_category *cat = &categories[c];
    if (!cat->title || (cat->n_charts && !cat->charts))
      return kcb__error(KCB_EINVAL, "custom scalars: category %zu has no title or no charts", c);
    for (size_t k = 0; k < cat->n_charts; k++) {
      const kcb_custom_chart *ch = &cat->charts[k];
      if (!ch->title || (ch->n_tags > 0) == (ch->n_series > 0) || (ch->n_tags && !ch->tags) ||
          (ch->n_series && !ch->series))
        return kcb__error(KCB_EINVAL,
                          "custom scalars: chart %zu of category '%s' needs a title and either tags (multiline) "
                          "or series (margin)",
                          k, cat->title);
      for (size_t i = 0; i < ch->n_tags; i++)
        if (!ch->tags[i] || !*ch->tags[i])
          return kcb__error(KCB_EINVAL, "custom scalars: chart '%s': tag %zu is empty", ch->title, i);
      /* the layout is a proto3 message: TensorBoard's parser refuses it whole for one bad string */
      int rc = kcb__check_utf8(cat->title, "custom scalars: the category title");
      if (!rc) rc = kcb__check_utf8(ch->title, "custom scalars: the chart title");
      for (size_t i = 0; !rc && i < ch->n_tags; i++) rc = kcb__check_utf8(ch->tags[i], "custom scalars: the tag regex");
      for (size_t i = 0; !rc && i < ch->n_series; i++) {
        rc = kcb__check_utf8(ch->series[i].value, "custom scalars: the series tag");
        if (!rc) rc = kcb__check_utf8(ch->series[i].lower, "custom scalars: the series tag");
        if (!rc) rc = kcb__check_utf8(ch->series[i].upper, "custom scalars: the series tag");
      }
      if (rc) return rc;
      for (size_t i = 0; i < ch->n_series; i++)
        if (!ch->series[i].value || !ch->series[i].lower || !ch->series[i].upper)
          return kcb__error(KCB_EINVAL, "custom scalars: chart '%s': series %zu lacks value, lower or upper tag",
                            ch->title, i);
      n_charts++;
      n_series += ch->n_series;
    }
  }
  /* one allocation for every message, pointer array and the packed bytes */
  Kcbpb__Category *cats = calloc(n_categories, sizeof *cats);
  Kcbpb__Category **cat_ptrs = calloc(n_categories, sizeof *cat_ptrs);
  Kcbpb__Chart *charts = calloc(n_charts + 1, sizeof *charts);
  Kcbpb__Chart **chart_ptrs = calloc(n_charts + 1, sizeof *chart_ptrs);
  Kcbpb__MultilineChartContent *multi = calloc(n_charts + 1, sizeof *multi);
  Kcbpb__MarginChartContent *margin = calloc(n_charts + 1, sizeof *margin);
  Kcbpb__MarginChartContent__Series *series = calloc(n_series + 1, sizeof *series);
  Kcbpb__MarginChartContent__Series **series_ptrs = calloc(n_series + 1, sizeof *series_ptrs);
  uint8_t *packed = NULL;
  int rc = 0;
  if (!cats || !cat_ptrs || !charts || !chart_ptrs || !multi || !margin || !series || !series_ptrs) {
    rc = kcb__error(KCB_ENOMEM, "custom scalars: out of memory");
    goto done;
  }
  size_t ci = 0, si = 0;
  for (size_t c = 0; c < n_categories; c++) {
    const kcb_custom_category *cat = &categories[c];
    kcbpb__category__init(&cats[c]);
    cats[c].title = (char *)cat->title;
    cats[c].closed = cat->closed != 0;
    cats[c].n_chart = cat->n_charts;
    cats[c].chart = chart_ptrs + ci;
    cat_ptrs[c] = &cats[c];
    for (size_t k = 0; k < cat->n_charts; k++, ci++) {
      const kcb_custom_chart *ch = &cat->charts[k];
      Kcbpb__Chart *out = &charts[ci];
      kcbpb__chart__init(out);
      out->title = (char *)ch->title;
      if (ch->n_tags) {
        kcbpb__multiline_chart_content__init(&multi[ci]);
        multi[ci].n_tag = ch->n_tags;
        multi[ci].tag = (char **)ch->tags;
        out->content_case = KCBPB__CHART__CONTENT_MULTILINE;
        out->multiline = &multi[ci];
      } else {
        kcbpb__margin_chart_content__init(&margin[ci]);
        margin[ci].n_series = ch->n_series;
        margin[ci].series = series_ptrs + si;
        for (size_t i = 0; i < ch->n_series; i++, si++) {
          kcbpb__margin_chart_content__series__init(&series[si]);
          series[si].value = (char *)ch->series[i].value;
          series[si].lower = (char *)ch->series[i].lower;
          series[si].upper = (char *)ch->series[i].upper;
          series_ptrs[si] = &series[si];
        }
        out->content_case = KCBPB__CHART__CONTENT_MARGIN;
        out->margin = &margin[ci];
      }
      chart_ptrs[ci] = out;
    }
  }
  Kcbpb__Layout layout = KCBPB__LAYOUT__INIT;
  layout.n_category = n_categories;
  layout.category = cat_ptrs;
  size_t len = kcbpb__layout__get_packed_size(&layout);
  if (!(packed = malloc(len + 1))) {
    rc = kcb__error(KCB_ENOMEM, "custom scalars: out of memory");
    goto done;
  }
  kcbpb__layout__pack(&layout, packed);
  /* TensorBoard's custom_scalars metadata: the plugin name only */
  rc = kcb__summary_writer_add_string(w, "custom_scalars__config__", (const char *)packed, len, "custom_scalars", NULL,
                                      0, step);
done:
  free(packed);
  free(cats);
  free(cat_ptrs);
  free(charts);
  free(chart_ptrs);
  free(multi);
  free(margin);
  free(series);
  free(series_ptrs);
  return rc;
}

/* prefix + s as a regex matching exactly that tag: metacharacters escaped ("top_k.5" stays one
 * literal tag) and "$" at the end, since the plugin matches with Python's re.match, anchored only
 * at the start ("epoch_loss" would also take "epoch_loss_scaled"). */
static void regex_literal(char *out, size_t size, const char *prefix, const char *s) {
  size_t o = 0;
  for (const char *p = prefix; *p && o + 2 < size; p++) out[o++] = *p;
  for (; *s && o + 3 < size; s++) {
    if (strchr("\\.^$|?*+()[]{}", *s)) out[o++] = '\\';
    out[o++] = *s;
  }
  out[o++] = '$';
  out[o] = '\0';
}

int kcb_summary_writer_add_default_layout(kcb_summary_writer *w, const char *const *metrics, size_t n_metrics) {
  KCB__WRITER_GIVEN(w);
  if (!metrics || n_metrics == 0) return kcb__error(KCB_EINVAL, "custom scalars: no metrics for the default layout");
  kcb_custom_chart *charts = calloc(n_metrics, sizeof *charts);
  char (*regex)[160] = calloc(n_metrics, sizeof *regex);
  const char **tag_ptrs = calloc(n_metrics, sizeof *tag_ptrs);
  int rc = 0;
  if (!charts || !regex || !tag_ptrs) {
    rc = kcb__error(KCB_ENOMEM, "custom scalars: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_metrics; i++) {
    if (!metrics[i] || !*metrics[i]) {
      rc = kcb__error(KCB_EINVAL, "custom scalars: metric %zu has no name", i);
      goto done;
    }
    /* train/ and validation/ both hold epoch_<metric>: one tag regex draws both lines */
    regex_literal(regex[i], sizeof regex[i], "epoch_", metrics[i]);
    tag_ptrs[i] = regex[i];
    charts[i].title = metrics[i];
    charts[i].tags = &tag_ptrs[i];
    charts[i].n_tags = 1;
  }
  kcb_custom_category cat = {"metrics (train and validation)", charts, n_metrics, 0};
  rc = kcb_summary_writer_add_custom_scalars(w, &cat, 1, 0);
done:
  free(charts);
  free(regex);
  free(tag_ptrs);
  return rc;
}

int kcb_custom_layout_parse(const kcb_bytes *layout, kcb_custom_layout_info *out,
                            void (*fn)(void *ctx, const char *category, const char *chart, const char *kind,
                                       const char *tags),
                            void *ctx) {
  memset(out, 0, sizeof *out);
  Kcbpb__Layout *l = kcbpb__layout__unpack(NULL, layout->len, layout->data);
  if (!l) return kcb__error(KCB_EFORMAT, "custom scalars: the layout is not a serialized Layout");
  int rc = 0;
  char *joined = NULL;
  out->n_categories = l->n_category;
  for (size_t c = 0; c < l->n_category && !rc; c++) {
    const Kcbpb__Category *cat = l->category[c];
    for (size_t k = 0; k < cat->n_chart && !rc; k++) {
      const Kcbpb__Chart *ch = cat->chart[k];
      out->n_charts++;
      int is_margin = ch->content_case == KCBPB__CHART__CONTENT_MARGIN;
      if (is_margin) out->n_margin++;
      else if (ch->content_case == KCBPB__CHART__CONTENT_MULTILINE) out->n_multiline++;
      if (!fn) continue;
      size_t len = 1, n = is_margin && ch->margin ? ch->margin->n_series
                        : ch->multiline                 ? ch->multiline->n_tag
                                                        : 0;
      for (size_t i = 0; i < n; i++)
        len += strlen(is_margin ? ch->margin->series[i]->value : ch->multiline->tag[i]) + 2;
      free(joined);
      if (!(joined = malloc(len))) {
        rc = kcb__error(KCB_ENOMEM, "custom scalars: out of memory");
        break;
      }
      size_t at = 0; /* appended at the end so far (strcat would rescan: quadratic in the tags) */
      for (size_t i = 0; i < n; i++) {
        const char *t = is_margin ? ch->margin->series[i]->value : ch->multiline->tag[i];
        size_t tl = strlen(t);
        if (i) memcpy(joined + at, ", ", 2), at += 2;
        memcpy(joined + at, t, tl), at += tl;
      }
      joined[at] = '\0';
      fn(ctx, cat->title, ch->title, is_margin ? "margin" : ch->multiline ? "multiline" : "empty", joined);
    }
  }
  free(joined);
  kcbpb__layout__free_unpacked(l, NULL);
  return rc;
}
