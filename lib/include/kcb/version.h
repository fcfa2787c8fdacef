/* kcb/version.h — version macros. */
#ifndef KCB_VERSION_H
#define KCB_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

#define KCB_VERSION_MAJOR 0
#define KCB_VERSION_MINOR 1
#define KCB_VERSION_PATCH 0
/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define KCB_VERSION_HEX (KCB_VERSION_MAJOR * 10000 + KCB_VERSION_MINOR * 100 + KCB_VERSION_PATCH)

/** The library's version string at run time, e.g. "0.1.0". @return a static string. */
const char *kcb_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
