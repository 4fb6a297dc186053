#!/usr/bin/python3
# nodelay.py - is TCP_NODELAY set on a daemon's accepted TCP sockets?
#
# Usage: nodelay.py PID PORT
#
# Opens a connection to 127.0.0.1:PORT, waits until the daemon PID has
# accepted it, takes a duplicate of each of the daemon's socket
# descriptors with pidfd_getfd(2) (Linux 5.6, needs ptrace rights: root)
# and prints, for the listening socket and for the accepted one whose
# peer is our connection, "listener nodelay=0|1" and
# "accepted nodelay=0|1".  Exit 0 when both were found, 1 otherwise.
import ctypes
import os
import socket
import sys
import time

SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438

libc = ctypes.CDLL(None, use_errno=True)


def getfd(pidfd, fd):
    """A duplicate of the daemon's descriptor fd, or -1."""
    return libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        print("pidfd_open: %s" % os.strerror(ctypes.get_errno()))
        return 1
    client = socket.create_connection(("127.0.0.1", port))
    mine = client.getsockname()
    found = {}
    for _ in range(50):
        for name in os.listdir("/proc/%d/fd" % pid):
            try:
                if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith(
                        "socket:"):
                    continue
            except OSError:
                continue
            fd = getfd(pidfd, int(name))
            if fd < 0:
                continue
            s = socket.socket(fileno=fd)
            try:
                if s.family != socket.AF_INET or s.type != socket.SOCK_STREAM:
                    continue
                on = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                listening = s.getsockopt(socket.SOL_SOCKET,
                                         socket.SO_ACCEPTCONN)
                if listening and s.getsockname()[1] == port:
                    found["listener"] = on
                elif not listening:
                    try:
                        if s.getpeername() == mine:
                            found["accepted"] = on
                    except OSError:
                        pass
            finally:
                s.close()
        if len(found) == 2:
            break
        time.sleep(0.1)
    client.close()
    for k in ("listener", "accepted"):
        print("%s nodelay=%s" % (k, "1" if found.get(k) else
                                 "0" if k in found else "?"))
    return 0 if len(found) == 2 else 1


sys.exit(main())
