#!/usr/bin/python3
# apply.py - apply the header edits that milterclient printed to the
# message it sent, as an MTA would, and write the result (CRLF)
#
#	apply.py MESSAGE EDITS > RESULT
#
# EDITS is milterclient's output: INSHEADER idx name: value inserts
# before the idx-th field (0 = top), ADDHEADER appends, CHGHEADER idx
# name: (empty) deletes the idx-th field of that name, applied in order.
import re
import sys


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "n":
                out += b"\n"
            elif n == "r":
                out += b"\r"
            elif n == "\\":
                out += b"\\"
            elif n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 2
            i += 2
            continue
        out += c.encode("utf-8", "surrogateescape")
        i += 1
    return bytes(out)


def split(msg):
    msg = msg.replace(b"\r\n", b"\n")
    head, sep, body = msg.partition(b"\n\n")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        elif line:
            fields.append(line)
    return fields, body


def name_of(field):
    return field.split(b":", 1)[0].strip().lower()


def main():
    msg = open(sys.argv[1], "rb").read()
    fields, body = split(msg)
    for line in open(sys.argv[2], encoding="utf-8",
                     errors="surrogateescape"):
        line = line.rstrip("\n")
        m = re.match(r"^(INSHEADER|CHGHEADER) (\d+) ([^:]*):(.*)$", line)
        a = re.match(r"^ADDHEADER ([^:]*):(.*)$", line)
        if m:
            op, idx, name, value = m.group(1), int(m.group(2)), \
                m.group(3), unescape(m.group(4))
            if op == "INSHEADER":
                fields.insert(idx, name.encode() + b":" + value)
                continue
            k = 0
            for i, f in enumerate(fields):
                if name_of(f) == name.lower().encode():
                    k += 1
                    if k == idx:
                        if value.strip():
                            fields[i] = name.encode() + b":" + value
                        else:
                            del fields[i]
                        break
        elif a:
            fields.append(a.group(1).encode() + b":" + unescape(a.group(2)))
    out = b"\r\n".join(f.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                       for f in fields)
    out += b"\r\n\r\n" + body.replace(b"\n", b"\r\n")
    sys.stdout.buffer.write(out)


main()
