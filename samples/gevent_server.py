#!/usr/bin/python3
"""gevent_server.py -- the lesson in Python, for `evtrace record`.

An unmodified gevent program: Debian's python3-gevent runs on the system's
libev (libev.so.4), which Python loads only when gevent is imported, so
`evtrace record -- python3 samples/gevent_server.py` traces it with no
change to it:

    GET /nap...   gevent.sleep(0.15): yields to the loop, requests overlap
    GET /slow...  time.sleep(0.15): blocks the loop, a wall in the trace
    GET /...      answers at once
    QUIT          stops the server; the program returns from main

Listens on 127.0.0.1 (port 0 = any; the first argument sets it) and prints
"port N", then "listening on 127.0.0.1:N" as the C samples do. Replies
"hello PATH #K" (K counts requests on the connection), like
tests/plain_server.c, so a traced run's replies can be compared byte for
byte with an untraced one's.
"""
import sys
import time

import gevent
from gevent.server import StreamServer


def handle(sock, addr):
    f = sock.makefile('rb')
    count = 0
    while True:
        line = f.readline()
        if not line:
            break
        while f.readline() not in (b'\r\n', b'\n', b''):
            pass                                  # headers: ignored
        if line.startswith(b'QUIT'):
            server.stop(timeout=0)
            break
        path = line.split()[1] if len(line.split()) > 1 else b'/'
        if path.startswith(b'/slow'):
            time.sleep(0.15)                      # blocking: not monkey-patched
        elif path.startswith(b'/nap'):
            gevent.sleep(0.15)                    # cooperative
        count += 1
        body = b'hello %s #%d\n' % (path, count)
        sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s' % (len(body), body))
    sock.close()


server = StreamServer(('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 0), handle)
server.start()
print('port %d' % server.server_port, flush=True)
print('listening on 127.0.0.1:%d' % server.server_port, flush=True)
server.serve_forever()
# serve_forever returned inside one of the hub's callbacks (the one that
# ran the QUIT handler's wake-up). Going back to the hub lets that callback
# return and the loop end; exiting from here instead, the interpreter's
# shutdown would run inside it, and the trace would end in a callback that
# never returned (a last "unfinished" stall).
gevent.get_hub().join(timeout=1)
