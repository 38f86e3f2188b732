#!/usr/bin/python3
"""Time of POST /api/burrow/reset (10 queues declared before each), 100 runs.

Usage: bench/reset_time.py PATH/TO/burrowd
"""
import subprocess, time, urllib.request, base64, statistics, sys
p = subprocess.Popen([sys.argv[1], '--in-memory', '--port', '0', '--http-port', '0', '--log-level', 'warn'], stdout=subprocess.PIPE)
urls = p.stdout.readline().decode().split()
http = [u for u in urls if u.startswith('http://')][0]
auth = 'Basic ' + base64.b64encode(b'guest:guest').decode()
def post(path):
    req = urllib.request.Request(http + path, method='POST', headers={'Authorization': auth})
    urllib.request.urlopen(req).read()
def put(path):
    req = urllib.request.Request(http + path, method='PUT', data=b'{}', headers={'Authorization': auth, 'content-type': 'application/json'})
    urllib.request.urlopen(req).read()
times = []
for i in range(100):
    for q in range(10): put('/api/queues/%%2F/q%d' % q)
    t0 = time.monotonic(); post('/api/burrow/reset'); times.append((time.monotonic() - t0) * 1000)
print('reset with 10 queues: median %.2f ms, max %.2f ms (HTTP round trip included)' % (statistics.median(times), max(times)))
p.terminate(); p.wait()
