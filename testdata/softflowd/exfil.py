#!/usr/bin/env python3
"""Real bulk transfers on loopback, for the exfiltration fixture (make.sh exfil).

127.0.0.1 (the internal host, with --internal 127.0.0.0/24) talks to three servers of
127.0.1.0/24 (external):

- it uploads 120 MB to 127.0.1.9:443 (exfiltration: out >> in, over the 100 MB threshold);
- it downloads 150 MB from 127.0.1.10:443 (inbound: not exfiltration, whatever its size);
- it sends 110 MB to 127.0.1.11:443 and gets 100 MB back (a two-way exchange: out < 1.5 x in).

Each transfer is one TCP connection. Nothing leaves the machine: every address is in 127.0.0.0/8.
"""
import socket
import threading

MB = 1_000_000
CHUNK = b"\0" * 65536


def send(sock, n):
    while n > 0:
        k = min(n, len(CHUNK))
        sock.sendall(CHUNK[:k])
        n -= k


def drain(sock):
    n = 0
    while True:
        b = sock.recv(1 << 20)
        if not b:
            return n
        n += len(b)


def exchange(sock, n):
    """Send n bytes while reading whatever comes back, then close our side."""
    t = threading.Thread(target=drain, args=(sock,))
    t.start()
    send(sock, n)
    sock.shutdown(socket.SHUT_WR)
    t.join()


def server(addr, ready, answer):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(1)
    ready.set()
    c, _ = s.accept()
    want = int(c.recv(32).split(b" ")[0])  # "SIZE " then the upload
    if answer == "drain":
        drain(c)
    else:
        exchange(c, want)
    c.close()


def transfer(addr, up, down):
    c = socket.create_connection(addr)
    c.sendall(b"%-31d" % down + b" ")
    exchange(c, up)
    c.close()


def main():
    plan = [(("127.0.1.9", 443), 120 * MB, 0, "drain"),
            (("127.0.1.10", 443), 0, 150 * MB, "send"),
            (("127.0.1.11", 443), 110 * MB, 100 * MB, "send")]
    for addr, up, down, answer in plan:
        ready = threading.Event()
        threading.Thread(target=server, args=(addr, ready, answer), daemon=True).start()
        ready.wait()
        transfer(addr, up, down)


if __name__ == "__main__":
    main()
