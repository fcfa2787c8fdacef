"""Event files written by hand, for the CLI tests that need summaries no writer makes: protobuf
fields encoded here (wire types 0 varint, 1 double, 2 bytes, 5 float), and TFRecord framing (each
record is its length (uint64, little-endian), the masked CRC-32C of the length, the data, and the
masked CRC-32C of the data; TFRecord format: spec/tfevents.md)."""
import os
import struct
import sys

# CRC-32C and its masking come from the independent checker beside the test data, so that the
# framing is written with the same arithmetic it is checked with.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tfevents"))
from tfrecord_check import crc32c, masked  # noqa: E402


def record(data):
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked(crc32c(header))) + data + struct.pack("<I", masked(crc32c(data)))


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(num, wire, payload):
    """One protobuf field: number, wire type and its value (int, float or bytes)."""
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 1:
        return key + struct.pack("<d", payload)
    if wire == 5:
        return key + struct.pack("<f", payload)
    return key + varint(len(payload)) + payload
