#!/usr/bin/env python3
"""Real periodic and random connections on loopback, for the beacon fixture (make.sh beacon).

A small TCP server answers on 127.0.0.5:8080 and 127.0.0.6:8080: it reads one request and
writes an answer of the size the request asks for, then closes. Two clients run at once:

- the beacon connects to 127.0.0.5:8080 every 1.5 s plus or minus up to 10% (uniform jitter),
  25 times, with requests and answers of nearly the same size each time (a C2 check-in);
- the decoy connects to 127.0.0.6:8080 25 times at exponential intervals (mean 1.5 s) with
  sizes that vary widely (a person browsing).

Both draw from seeded generators, so the schedule is the same on every run; the kernel's timing
is not. Nothing leaves the machine: every address is in 127.0.0.0/8.
"""
import random
import socket
import threading
import time

SERVERS = [("127.0.0.5", 8080), ("127.0.0.6", 8080)]


def serve(addr, ready):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(16)
    ready.set()
    while True:
        c, _ = s.accept()
        req = c.recv(4096)
        size = int(req.split(b" ")[1]) if req.startswith(b"GET ") else 0
        c.sendall(b"x" * size)
        c.close()


def client(addr, waits, sizes):
    for wait, (up, down) in zip(waits, sizes):
        time.sleep(wait)
        c = socket.create_connection(addr)
        c.sendall(b"GET %d " % down + b"h" * up)
        while c.recv(65536):
            pass
        c.close()


def main():
    for addr in SERVERS:
        ready = threading.Event()
        threading.Thread(target=serve, args=(addr, ready), daemon=True).start()
        ready.wait()
    b, d = random.Random(7), random.Random(8)
    beacon = ([0.2] + [1.5 * (1 + b.uniform(-0.1, 0.1)) for _ in range(24)],
              [(120 + b.randint(0, 4), 300 + b.randint(0, 8)) for _ in range(25)])
    decoy = ([0.3] + [d.expovariate(1 / 1.5) for _ in range(24)],
             [(d.randint(80, 900), d.randint(200, 60000)) for _ in range(25)])
    threads = [threading.Thread(target=client, args=(SERVERS[0],) + beacon),
               threading.Thread(target=client, args=(SERVERS[1],) + decoy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
