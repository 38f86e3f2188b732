#!/usr/bin/python3
"""Startup time of burrowd: exec until the ready line, 20 runs, median/min/max.

Usage: bench/startup.py PATH/TO/burrowd [burrowd flags...]   (--port 0 is added)
  bench/startup.py build/release/bin/burrowd --in-memory
  bench/startup.py build/release/bin/burrowd --data-dir /tmp/burrow-startup
"""
import statistics
import subprocess
import sys
import time

binary, args = sys.argv[1], sys.argv[2:]
runs = []
for _ in range(20):
    t0 = time.monotonic()
    p = subprocess.Popen([binary, '--port', '0', '--http-port', '0'] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    p.stdout.readline()
    runs.append((time.monotonic() - t0) * 1000)
    p.terminate()
    p.wait()
print('median %.1f ms, min %.1f, max %.1f' % (statistics.median(runs), min(runs), max(runs)))
