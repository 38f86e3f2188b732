"""Scenario discovery, isolated parallel execution, burrowd management."""

import fnmatch
import importlib
import inspect
import json
import multiprocessing
import multiprocessing.connection
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid

import pika

from . import recorder, wire

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO_DIR = os.path.join(HERE, 'scenarios')
GOLDEN_DIR = os.path.join(HERE, 'golden')

SCENARIO_TIMEOUT = 20.0     # soft (SIGALRM inside the scenario)
HARD_TIMEOUT = 30.0         # the parent kills the worker after this
READY_PREFIX = 'burrowd listening on amqp://'


# ---------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------

class Scenario:
    def __init__(self, module, func):
        self.module = module
        self.func = func
        self.name = '%s.%s' % (module, func.__name__[len('scenario_'):])
        doc = inspect.getdoc(func) or ''
        self.doc = doc.split('\n\n')[0].replace('\n', ' ')

    def __repr__(self):
        return self.name


def discover():
    """All scenarios, in module (file name) then definition order."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    found = []
    for fname in sorted(os.listdir(SCENARIO_DIR)):
        if not fname.endswith('.py') or fname.startswith('_'):
            continue
        modname = fname[:-3]
        mod = importlib.import_module('scenarios.' + modname)
        funcs = [f for n, f in vars(mod).items()
                 if n.startswith('scenario_') and callable(f)]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        found.extend(Scenario(modname, f) for f in funcs)
    names = [s.name for s in found]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit('duplicate scenario names: %s' % sorted(dupes))
    return found


def select_scenarios(scenarios, patterns):
    """-k patterns: substring or fnmatch glob; several are OR-ed."""
    if not patterns:
        return scenarios
    out = []
    for s in scenarios:
        for p in patterns:
            if any(ch in p for ch in '*?[') and fnmatch.fnmatch(s.name, p):
                out.append(s)
                break
            if p in s.name:
                out.append(s)
                break
    return out


# ---------------------------------------------------------------------------
# Running one scenario (inside a worker process)
# ---------------------------------------------------------------------------

def _on_alarm(signum, frame):
    raise recorder.OpTimeout()


def _cleanup(target, names):
    """Delete every queue/exchange the scenario named (not logged)."""
    if not names:
        return
    signal.setitimer(signal.ITIMER_REAL, 5.0)
    try:
        conn = pika.BlockingConnection(target.parameters())
        ch = conn.channel()
        for name in names:
            for kind in ('queue', 'exchange'):
                try:
                    if not ch.is_open:
                        ch = conn.channel()
                    if kind == 'queue':
                        ch.queue_delete(name)
                    else:
                        ch.exchange_delete(name)
                except Exception:
                    pass
        conn.close()
    except BaseException:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_one(scenario, url, timeout=SCENARIO_TIMEOUT):
    """Run a scenario; return {'events': [...], 'error': str|None,
    'seconds': float}. Errors (exceptions in scenario code, timeouts) are
    also appended to the events so that a replay diff shows them."""
    wire.install_patches()
    import logging
    logging.getLogger('pika').setLevel(logging.CRITICAL)
    target = recorder.Target(url)
    prefix = 'dt-' + uuid.uuid4().hex[:10]
    t = recorder.Recorder(target, scenario.name, prefix)
    signal.signal(signal.SIGALRM, _on_alarm)
    start = time.monotonic()
    t._deadline = start + timeout
    error = None
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        scenario.func(t)
    except recorder.ScenarioAbort:
        error = 'aborted after a logged timeout/connection loss'
    except recorder.OpTimeout:
        error = 'scenario exceeded %.0f s' % timeout
        t.log('scenario_timeout')
    except Exception as exc:
        error = ''.join(traceback.format_exception_only(type(exc), exc))
        error = error.strip()
        t.log('exception', type=type(exc).__name__, message=str(exc)[:300])
        error += '\n' + traceback.format_exc()
    finally:
        t._deadline = None
        signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.monotonic() - start
    signal.setitimer(signal.ITIMER_REAL, 5.0)
    try:
        t.close_all()
    except BaseException:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    _cleanup(target, t.names)
    events = recorder.normalise(t.events, prefix)
    return {'events': events, 'error': error, 'seconds': seconds}


def _worker(scenario, url, conn):
    try:
        result = run_one(scenario, url)
    except BaseException as exc:
        result = {'events': [{'event': 'runner_error',
                              'message': repr(exc)}],
                  'error': traceback.format_exc(), 'seconds': 0}
    conn.send(result)
    conn.close()


def run_all(scenarios, url, jobs=4, on_result=None):
    """Run scenarios in forked workers, ``jobs`` at a time. Returns
    {name: result} and calls on_result(scenario, result) as each ends."""
    ctx = multiprocessing.get_context('fork')
    queue = list(scenarios)
    running = {}   # pid -> (scenario, process, parent_conn, started)
    results = {}
    while queue or running:
        while queue and len(running) < jobs:
            sc = queue.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(sc, url, child))
            proc.start()
            child.close()
            running[proc.pid] = (sc, proc, parent, time.monotonic())
        conns = [v[2] for v in running.values()]
        ready = multiprocessing.connection.wait(conns, timeout=0.2)
        now = time.monotonic()
        for pid, (sc, proc, parent, started) in list(running.items()):
            result = None
            if parent in ready:
                try:
                    result = parent.recv()
                except EOFError:
                    result = {'events': [{'event': 'worker_died'}],
                              'error': 'worker died (exit %s)'
                                       % proc.exitcode, 'seconds': 0}
            elif now - started > HARD_TIMEOUT:
                proc.kill()
                result = {'events': [{'event': 'worker_killed'}],
                          'error': 'killed after %.0f s' % HARD_TIMEOUT,
                          'seconds': HARD_TIMEOUT}
            if result is None:
                continue
            proc.join(5)
            parent.close()
            del running[pid]
            results[sc.name] = result
            if on_result:
                on_result(sc, result)
    return results


# ---------------------------------------------------------------------------
# Golden files
# ---------------------------------------------------------------------------

def golden_path(name):
    return os.path.join(GOLDEN_DIR, name + '.json')


def dump_transcript(scenario, events):
    doc = {'scenario': scenario.name, 'doc': scenario.doc,
           'events': events}
    return json.dumps(doc, indent=2, ensure_ascii=False) + '\n'


def events_text(events):
    """The text the diff is computed on: one JSON document per event."""
    return json.dumps(events, indent=2, ensure_ascii=False).splitlines()


# ---------------------------------------------------------------------------
# burrowd
# ---------------------------------------------------------------------------

class Burrowd:
    def __init__(self, binary, extra_args=()):
        self.binary = binary
        self.stderr = []
        self.proc = subprocess.Popen(
            [binary, '--port', '0', '--http-port', '0', '--bind', '127.0.0.1', '--in-memory',
             '--log-level', 'warn'] + list(extra_args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._pump(self.proc.stderr, self.stderr)
        line = self._ready_line()
        self.stdout = []
        self._pump(self.proc.stdout, self.stdout)
        self.url_base = line[len('burrowd listening on '):].split()[0]
        port = int(self.url_base.rsplit(':', 1)[1].split('/')[0])
        self.url = 'amqp://guest:guest@127.0.0.1:%d/%%2F' % port

    def _pump(self, stream, sink):
        def run():
            for chunk in iter(lambda: stream.read1(4096), b''):
                sink.append(chunk)
        threading.Thread(target=run, daemon=True).start()

    def _ready_line(self):
        fd = self.proc.stdout.fileno()
        data = b''
        deadline = time.monotonic() + 10
        while b'\n' not in data:
            left = deadline - time.monotonic()
            r, _, _ = select.select([fd], [], [], max(left, 0))
            if not r:
                self.proc.kill()
                raise SystemExit('burrowd printed no ready line (got %r)'
                                 % data)
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait()
                raise SystemExit('burrowd exited with %s before ready:\n%s'
                                 % (self.proc.returncode,
                                    self.stderr_text()[-3000:]))
            data += chunk
        line = data.split(b'\n')[0].decode().strip()
        if not line.startswith(READY_PREFIX):
            self.proc.kill()
            raise SystemExit('unexpected first line from burrowd: %r' % line)
        return line

    def stderr_text(self):
        return b''.join(self.stderr).decode('utf-8', 'replace')

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns (exit code or None if it had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
