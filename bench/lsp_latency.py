#!/usr/bin/env python3
"""Latency of `redline server`: time from a didChange to the diagnostics
published for it, over many edits of one file in a real repository.

Usage: bench/lsp_latency.py REDLINE_BIN FILE.go [EDITS]

FILE.go is opened from its repository (its package's other files come from
disk, as in an editor). Each edit appends or removes a line holding an
RL101 finding, so every edit changes the diagnostics; the time measured is
from writing the didChange to reading the publishDiagnostics that carries
that edit's version. Prints the median, p90, p99 and max in milliseconds.
"""

import json
import os
import statistics
import subprocess
import sys
import time


def send(proc, message):
    body = json.dumps(message).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


def receive(proc):
    length = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("server closed its output")
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return json.loads(proc.stdout.read(length))


def wait_for(proc, predicate):
    while True:
        msg = receive(proc)
        if predicate(msg):
            return msg


def main():
    binary, path = sys.argv[1], os.path.abspath(sys.argv[2])
    edits = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    uri = "file://" + path
    text = open(path, encoding="utf-8").read()
    proc = subprocess.Popen(
        [binary, "--isolated", "server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=os.path.dirname(path),
    )
    send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": os.getpid(), "rootUri": None, "capabilities": {}}})
    wait_for(proc, lambda m: m.get("id") == 1)
    send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "go",
                                            "version": 0, "text": text}}})
    wait_for(proc, lambda m: m.get("method") == "textDocument/publishDiagnostics")
    samples = []
    for version in range(1, edits + 1):
        body = text + ("\nvar redlineBench = new(map[string]int)\n" if version % 2 else "")
        started = time.perf_counter()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri, "version": version},
                               "contentChanges": [{"text": body}]}})
        wait_for(proc, lambda m: m.get("method") == "textDocument/publishDiagnostics"
                 and m["params"].get("version") == version)
        samples.append((time.perf_counter() - started) * 1000)
    send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    wait_for(proc, lambda m: m.get("id") == 2)
    send(proc, {"jsonrpc": "2.0", "method": "exit"})
    proc.wait(timeout=10)
    samples.sort()
    pct = lambda p: samples[min(len(samples) - 1, int(round(p / 100 * (len(samples) - 1))))]
    print(f"{path}: {edits} edits, median {statistics.median(samples):.1f} ms, "
          f"p90 {pct(90):.1f} ms, p99 {pct(99):.1f} ms, max {samples[-1]:.1f} ms")


if __name__ == "__main__":
    main()
