/* A program outside the kcb tree, built against an installed kcb (find_package and pkg-config). */
#include <kcb/kcb.h>
#include <stdio.h>
int main(void) { kcb_model *m; int64_t s[1] = {3}; int rc = kcb_model_new(&m, 1, s, 1) || kcb_model_add_from_spec(m, "2:softmax"); printf("%s %d\n", kcb_version_string(), rc); kcb_model_free(m); return rc; }
