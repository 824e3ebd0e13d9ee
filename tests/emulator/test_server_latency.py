"""The emulator answers at loopback speed: no answer waits for the client's delayed ACK (Nagle's algorithm holding
the body back behind a small header segment costs ~40 ms per answer on Linux), so benchmarks measure the collector."""

from __future__ import annotations

import http.client
import statistics
import time
from urllib.parse import urlsplit


def test_keep_alive_answers_do_not_wait_for_a_delayed_ack(emulator):
    address = urlsplit(emulator.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    took = []
    try:
        for _ in range(15):  # one connection, as every client library keeps it: the delayed ACK hits from the 2nd
            started = time.perf_counter()
            connection.request("GET", "/no/such/route", headers={"Authorization": "token emu-token-one"})
            answer = connection.getresponse()
            body = answer.read()
            took.append(time.perf_counter() - started)
            assert answer.status == 404 and body
    finally:
        connection.close()
    assert statistics.median(took) < 0.025, f"median answer {statistics.median(took) * 1000:.1f} ms"
