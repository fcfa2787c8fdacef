/* io/tfevents/pb_depth.h — how deeply a protobuf message nests, measured before protobuf-c
 * unpacks it: protobuf-c recurses once per nested message, so a recursive schema (hparams'
 * Value -> ListValue -> Value ...) lets a crafted record of a few hundred KB overflow the stack. */
#ifndef KCB_IO_TFEVENTS_PB_DEPTH_H
#define KCB_IO_TFEVENTS_PB_DEPTH_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Upstream protobuf's default recursion limit (CodedInputStream::SetRecursionLimit). */
#define KCB__PB_MAX_DEPTH 100

/** Whether the wire bytes of a desc message nest sub-messages no deeper than max_depth (the top
 * message is depth 1). Iterative, with a stack of max_depth frames; bytes that are not valid
 * wire format end the scan with 1 (protobuf-c then rejects them). max_depth <= 1024.
 * @return 1 within the bound, 0 deeper. */
int kcb__pb_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, int max_depth);

/** The deepest nesting desc's schema allows (following message fields), or -1 when the schema is
 * recursive; at most limit is explored. For tests: a schema that is not recursive needs no check. */
int kcb__pb_schema_depth(const ProtobufCMessageDescriptor *desc, int limit);

#endif
