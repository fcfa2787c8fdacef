/* tools/tool_text.h — what the tools print from files (tags, names, paths, messages quoting them)
 * goes through kcb_text_escape first, so a crafted file cannot drive the terminal (issue 15). */
#ifndef KCB_TOOL_TEXT_H
#define KCB_TOOL_TEXT_H

#include <string.h>

#include <kcb/kcb.h>

/* s escaped (control characters as \xNN), in one of 8 rotating buffers: valid until 8 more calls,
 * enough for one printf's arguments. Long text is cut at 4 KB. */
static inline const char *tool_esc(const char *s) {
  static _Thread_local char bufs[8][4096];
  static _Thread_local unsigned next;
  char *b = bufs[next++ % 8];
  kcb_text_escape(b, sizeof bufs[0], s ? s : "", s ? strlen(s) : 0, 0);
  return b;
}

/* The same for messages that may span lines (line feeds kept). */
static inline const char *tool_esc_lines(const char *s) {
  static _Thread_local char bufs[4][8192];
  static _Thread_local unsigned next;
  char *b = bufs[next++ % 4];
  kcb_text_escape(b, sizeof bufs[0], s ? s : "", s ? strlen(s) : 0, KCB_ESCAPE_KEEP_NEWLINES);
  return b;
}

#endif
