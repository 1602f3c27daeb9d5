#!/usr/bin/env python3
"""Prints a port P of 127.0.0.1 such that P .. P+N-1 are all free (N = argv[1], default 1).

`cairn server --listen 127.0.0.1:P` also takes P+1 (its keepstore) and P+2 (its gateway), so the
test scripts that start it ask for three ports in a row.
"""
import socket
import sys


def free_ports(count):
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + count > 65536:
            continue
        try:
            for p in range(port, port + count):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    sys.exit("free_ports: no free run of ports found")


if __name__ == "__main__":
    print(free_ports(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
