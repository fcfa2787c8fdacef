/* tools/tool_text.h — what the tools print from files (tags, names, paths, messages quoting them)
 * goes through kcb_text_escape first, so a crafted file cannot drive the terminal (issue 15). */
#ifndef KCB_TOOL_TEXT_H
#define KCB_TOOL_TEXT_H

#include <string.h>

#include <kcb/kcb.h>

/* Escapes s into b (size bytes); text too long for it is cut and ends in "..." so that nothing
 * looks whole that is not. */
static inline const char *tool_esc_into(char *b, size_t size, const char *s, int flags) {
  size_t len = s ? strlen(s) : 0;
  if (kcb_text_escape(b, size, s ? s : "", len, flags) >= size) { /* cut again, at a whole character */
    kcb_text_escape(b, size - 3, s, len, flags);
    strcat(b, "...");
  }
  return b;
}

/* s escaped (control characters as \xNN), in one of 8 rotating buffers: valid until 8 more calls,
 * enough for one printf's arguments. Text over 4 KB is cut, marked "...". */
static inline const char *tool_esc(const char *s) {
  static _Thread_local char bufs[8][4096];
  static _Thread_local unsigned next;
  return tool_esc_into(bufs[next++ % 8], sizeof bufs[0], s, 0);
}

/* The same for messages that may span lines (line feeds kept; cut at 8 KB). */
static inline const char *tool_esc_lines(const char *s) {
  static _Thread_local char bufs[4][8192];
  static _Thread_local unsigned next;
  return tool_esc_into(bufs[next++ % 4], sizeof bufs[0], s, KCB_ESCAPE_KEEP_NEWLINES);
}

#endif
