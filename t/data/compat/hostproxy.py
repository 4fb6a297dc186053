#!/usr/bin/python3
# hostproxy.py - relay milter connections, giving the client a host name
#
#	hostproxy.py TARGET-PORT HOSTNAME
#
# Listens on a free port of 127.0.0.1 (printed on the first line of
# standard output) and relays each connection to 127.0.0.1:TARGET-PORT.
# In the MTA's SMFIC_CONNECT packet it replaces the client's host name
# (milterclient always sends "[address]", as an MTA does for a client
# without a verified reverse name) with HOSTNAME; everything else passes
# unchanged.  Runs until killed.
import socket
import struct
import sys
import threading


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def mta_to_milter(src, dst, hostname):
    try:
        while True:
            head = read_exact(src, 4)
            if head is None:
                break
            (n,) = struct.unpack(">I", head)
            if n == 0 or n > 64 * 1024 * 1024:
                break
            pkt = read_exact(src, n)
            if pkt is None:
                break
            if pkt[:1] == b"C" and b"\0" in pkt[1:]:
                pkt = b"C" + hostname + pkt[pkt.index(b"\0", 1):]
            dst.sendall(struct.pack(">I", len(pkt)) + pkt)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def milter_to_mta(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def main():
    target = int(sys.argv[1])
    hostname = sys.argv[2].encode()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print(ls.getsockname()[1], flush=True)
    while True:
        c, _ = ls.accept()
        m = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=mta_to_milter, args=(c, m, hostname),
                         daemon=True).start()
        threading.Thread(target=milter_to_mta, args=(m, c),
                         daemon=True).start()


main()
