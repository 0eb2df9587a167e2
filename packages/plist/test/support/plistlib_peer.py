"""Reads and writes property lists with python's plistlib for the differential tests.

One JSON request per input line, one JSON answer per output line:
  {"op": "read", "data": <base64>}                      -> {"ok": true, "value": <tagged>}
  {"op": "write", "fmt": "xml"|"binary", "value": <tagged>} -> {"ok": true, "data": <base64>}
  {"op": "carry", "fmt": "xml"|"binary", "value": <tagged>} -> {"ok": true, "value": <tagged>}
    (writes, then reads its own output: whether plistlib can carry the value in that format at all)
Tagged values keep every plist type apart: {"t": "i"|"r"|"s"|"b"|"d"|"D"|"u"|"a"|"o", "v": ...}.
Integers are decimal strings, reals the hex of their IEEE 754 bits, dates microseconds since 1970
(UTC), data base64, dicts lists of [key, value] pairs.
"""

import base64
import datetime
import json
import plistlib
import struct
import sys

EPOCH = datetime.datetime(1970, 1, 1)
MICRO = datetime.timedelta(microseconds=1)


def to_tagged(v):
    if isinstance(v, bool):
        return {"t": "b", "v": v}
    if isinstance(v, int):
        return {"t": "i", "v": str(v)}
    if isinstance(v, float):
        return {"t": "r", "v": struct.pack(">d", v).hex()}
    if isinstance(v, str):
        return {"t": "s", "v": v}
    if isinstance(v, bytes):
        return {"t": "D", "v": base64.b64encode(v).decode("ascii")}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return {"t": "d", "v": (v - EPOCH) // MICRO}
    if isinstance(v, plistlib.UID):
        return {"t": "u", "v": v.data}
    if isinstance(v, list):
        return {"t": "a", "v": [to_tagged(x) for x in v]}
    if isinstance(v, dict):
        return {"t": "o", "v": [[k, to_tagged(x)] for k, x in v.items()]}
    raise TypeError("unexpected %r" % type(v))


def from_tagged(t):
    k, v = t["t"], t["v"]
    if k == "b":
        return bool(v)
    if k == "i":
        return int(v)
    if k == "r":
        return struct.unpack(">d", bytes.fromhex(v))[0]
    if k == "s":
        return v
    if k == "D":
        return base64.b64decode(v)
    if k == "d":
        return EPOCH + v * MICRO
    if k == "u":
        return plistlib.UID(v)
    if k == "a":
        return [from_tagged(x) for x in v]
    if k == "o":
        return {key: from_tagged(x) for key, x in v}
    raise TypeError("unexpected tag %r" % k)


def main():
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "read":
                value = plistlib.loads(base64.b64decode(req["data"]))
                out = {"ok": True, "value": to_tagged(value)}
            else:
                fmt = plistlib.FMT_XML if req["fmt"] == "xml" else plistlib.FMT_BINARY
                data = plistlib.dumps(from_tagged(req["value"]), fmt=fmt, sort_keys=False)
                if req["op"] == "carry":
                    out = {"ok": True, "value": to_tagged(plistlib.loads(data))}
                else:
                    out = {"ok": True, "data": base64.b64encode(data).decode("ascii")}
        except Exception as e:  # reported to the test, which decides whether it was expected
            out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")


main()
