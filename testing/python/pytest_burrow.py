"""pytest plugin: burrowd, an AMQP 0-9-1 broker that behaves like RabbitMQ 3.10, as a test double
with a manual clock, reset between tests, fault injection and a record of what was published.

Standard library only, so it works with any AMQP client (pika, kombu, aio-pika, ...). The HTTP
contract it drives is docs/testing.md. Load it with `-p pytest_burrow`, with
`pytest_plugins = ["pytest_burrow"]` in a top-level conftest.py, or by installing this directory
(`pip install testing/python`), whose pytest11 entry point loads it in every session.
"""

import base64
import collections
import datetime
import json
import numbers
import os
import select
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ENV_AMQP_URL = "BURROW_AMQP_URL"  # use this running broker instead of starting burrowd
ENV_HTTP_URL = "BURROW_HTTP_URL"  # its management API (default: http://<amqp host>:15672)
ENV_BURROWD = "BURROWD"  # the burrowd binary (the --burrowd option wins over it)
READY_PREFIX = "burrowd listening on "
HTTP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
STDERR_KEPT = 64 * 1024  # bytes of burrowd's stderr kept for error messages
# What a sanitizer build or a crash leaves on stderr; any of them fails the session's end.
CRASH_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                 "ThreadSanitizer", "Segmentation fault", "terminate called")


class BurrowError(Exception):
    """A test control failed: burrowd answered an error, or is not reachable."""

    def __init__(self, message, status=None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


class BurrowStartError(BurrowError):
    """burrowd could not be found, or exited or stayed silent before its ready line."""


class BurrowBroker:
    """One broker: a burrowd child process (start()) or one already running (attach()).

    Thread-safe: each control is one HTTP request (a test may inject a fault from another
    thread while its own blocks in a client call). The AMQP URL is `url`; the management
    API's base URL is `http_url`. The controls (advance, reset, faults, published) are
    burrowd's; against another broker they raise BurrowError (`has_controls` says which).
    """

    def __init__(self, url, http_url, http_user="guest", http_password="guest", proc=None):
        self.url = url
        self.http_url = http_url.rstrip("/")
        self.proc = proc
        self.reset_seconds = []  # the duration of each reset(), for the terminal summary
        self._auth = "Basic " + base64.b64encode(
            ("%s:%s" % (http_user, http_password)).encode()).decode()
        self._stderr = collections.deque()
        self._stderr_size = 0
        self._lock = threading.Lock()
        self._threads = []
        self._has_controls = None
        self._controls_error = None

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def start(cls, binary, record=False, clock="manual", extra_args=(), timeout=10.0):
        """Starts `binary --in-memory --port 0 --http-port 0 --clock manual --log-level warn`
        (plus --record and extra_args) and waits up to `timeout` s for its ready line.
        clock="system" lets time pass as on RabbitMQ (advance() then fails).

        Raises BurrowStartError if the binary is missing, exits or prints no ready line; the
        message carries burrowd's stderr."""
        path = binary if os.sep in binary else shutil.which(binary)
        if not path or not os.access(path, os.X_OK):
            raise BurrowStartError(
                "burrowd not found (%r): pass --burrowd PATH, set %s=/path/to/burrowd, put "
                "burrowd on PATH, or set %s=amqp://... to use a running broker"
                % (binary, ENV_BURROWD, ENV_AMQP_URL))
        args = [path, "--in-memory", "--port", "0", "--http-port", "0", "--bind", "127.0.0.1",
                "--clock", clock, "--log-level", "warn"]
        if record:
            args.append("--record")
        args += list(extra_args)
        try:
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as e:
            raise BurrowStartError("cannot run %s: %s" % (path, e)) from None
        broker = cls(url=None, http_url="", proc=proc)
        broker._pump(proc.stderr, keep=True)
        try:
            line = broker._read_ready_line(timeout, args)
        except BurrowStartError:
            broker._kill()
            raise
        broker._pump(proc.stdout, keep=False)
        # "burrowd listening on amqp://127.0.0.1:41234 http://127.0.0.1:39871"
        urls = line[len(READY_PREFIX):].split()
        amqp = urllib.parse.urlsplit(urls[0])
        http = next((u for u in urls if u.startswith("http://")), None)
        if amqp.scheme != "amqp" or not amqp.port or not http:
            broker._kill()
            raise BurrowStartError("unexpected ready line from %s: %r" % (path, line))
        # Credentials and vhost spelled out: some clients need them in the URL.
        broker.url = "amqp://guest:guest@%s:%d/%%2F" % (amqp.hostname, amqp.port)
        broker.http_url = http.rstrip("/")
        broker._has_controls = True
        return broker

    @classmethod
    def attach(cls, url, http_url=None):
        """A broker that is already running at AMQP `url`. Its API is `http_url`, by default
        http://<host>:15672 with the AMQP URL's user and password (else guest/guest)."""
        parts = urllib.parse.urlsplit(url)
        user = urllib.parse.unquote(parts.username or "guest")
        password = urllib.parse.unquote(parts.password or "guest")
        if http_url:
            hp = urllib.parse.urlsplit(http_url)
            if hp.username:
                user = urllib.parse.unquote(hp.username)
                password = urllib.parse.unquote(hp.password or "")
            netloc = hp.netloc.rpartition("@")[2]  # without the credentials
            http_url = urllib.parse.urlunsplit((hp.scheme, netloc, hp.path, "", ""))
        else:
            http_url = "http://%s:15672" % (parts.hostname or "127.0.0.1")
        return cls(url, http_url, user, password)

    def stop(self):
        """SIGTERMs a started burrowd. Raises BurrowError if it does not exit 0 within
        STOP_TIMEOUT s or reported a crash (sanitizer report) on stderr. No-op if attached."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.check_alive()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise BurrowError("burrowd ignored SIGTERM for %.0f s; killed it%s"
                              % (STOP_TIMEOUT, self._stderr_tail()))
        self._join()
        err = self.stderr()
        if code != 0:
            raise BurrowError("burrowd exited with %s after SIGTERM%s" % (code, self._stderr_tail()))
        for marker in CRASH_MARKERS:
            if marker in err:
                raise BurrowError("burrowd reported %r%s" % (marker, self._stderr_tail()))

    def check_alive(self):
        """Raises BurrowError, with burrowd's stderr, if the started burrowd has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            self._join()
            raise BurrowError("burrowd died (exit %s)%s" % (self.proc.returncode,
                                                             self._stderr_tail()))

    def stderr(self):
        """What burrowd wrote to stderr (the last STDERR_KEPT bytes), as text."""
        with self._lock:
            return b"".join(self._stderr).decode("utf-8", "replace")

    @property
    def has_controls(self):
        """True if the broker serves burrowd's test controls (always for a started one);
        asked once. False for RabbitMQ (404) or an API that cannot be reached (the reason is
        in controls_error)."""
        if self._has_controls is None:
            try:
                self._request("GET", "/api/burrow/clock")
                self._has_controls = True
            except BurrowError as e:
                self._has_controls, self._controls_error = False, str(e)
        return self._has_controls

    @property
    def controls_error(self):
        """Why has_controls is False, or None."""
        return self._controls_error

    # -- controls ----------------------------------------------------------------------------

    def now(self):
        """The broker's clock, in ms since the epoch."""
        return self._request("GET", "/api/burrow/clock")["now_ms"]

    def advance(self, duration):
        """Moves the manual clock forward by `duration` (ms, or a datetime.timedelta) and
        returns the new now(). Every TTL, x-expires, delayed message and consumer timeout that
        falls due has fired when it returns. Publish with confirms first, so the message is in
        its queue before the clock moves."""
        if isinstance(duration, datetime.timedelta):
            ms = duration // datetime.timedelta(milliseconds=1)
        elif isinstance(duration, numbers.Real) and not isinstance(duration, bool):
            ms = int(round(duration))
        else:
            raise TypeError("advance() takes ms or a timedelta, not %r" % (duration,))
        if ms < 0:
            raise ValueError("the clock only moves forward (got %d ms)" % ms)
        return self._request("POST", "/api/burrow/clock/advance", {"ms": ms})["now_ms"]

    def reset(self):
        """Back to the state of a fresh start: every connection closed (320 CONNECTION_FORCED),
        every queue, message, exchange, binding, non-default vhost and user deleted, guest
        recreated, faults and the record cleared. The clock keeps its time."""
        started = time.perf_counter()
        self._request("POST", "/api/burrow/reset")
        self.reset_seconds.append(time.perf_counter() - started)

    def published(self, **filters):
        """What was published since the start or the last clear, oldest first: dicts with
        vhost, exchange, routing_key, properties, payload, payload_encoding, queues (the names
        it reached), published_at (ms), plus `body`, the payload as bytes. Filters: vhost=,
        exchange=, routing_key=. Needs burrowd --record (see the burrow_record marker)."""
        unknown = set(filters) - {"vhost", "exchange", "routing_key"}
        if unknown:
            raise TypeError("published() filters by vhost, exchange, routing_key; not %s"
                            % ", ".join(sorted(unknown)))
        path = "/api/burrow/published"
        if filters:
            path += "?" + urllib.parse.urlencode(filters)
        records = self._request("GET", path)
        for r in records:
            if r.get("payload_encoding") == "base64":
                r["body"] = base64.b64decode(r["payload"])
            else:
                r["body"] = r["payload"].encode("utf-8")
        return records

    def clear_published(self):
        """Forgets what was published so far."""
        self._request("DELETE", "/api/burrow/published")

    def fault(self, kind, **params):
        """Injects one fault: close_connections [client=], refuse_connections ms=,
        nack_publishes count=, delay_confirms ms=, drop_acks count=. Returns burrowd's JSON
        answer ({"closed": N} for close_connections), or None."""
        body = {"fault": kind}
        body.update(params)
        return self._request("POST", "/api/burrow/faults", body)

    def faults(self):
        """The faults in force, as burrowd reports them."""
        return self._request("GET", "/api/burrow/faults")

    def clear_faults(self):
        """Ends every fault in force."""
        self._request("DELETE", "/api/burrow/faults")

    def close_connections(self, client=None):
        """Closes every AMQP connection (or those whose name or client-provided
        connection_name is `client`) with 320 CONNECTION_FORCED; returns how many."""
        params = {} if client is None else {"client": client}
        return self.fault("close_connections", **params)["closed"]

    # -- internals ---------------------------------------------------------------------------

    def _request(self, method, path, body=None):
        data = None
        headers = {"Authorization": self._auth}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.http_url + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            reason = text
            try:
                reason = json.loads(text).get("reason", text)
            except (ValueError, AttributeError):
                pass
            hint = ""
            if e.code == 404 and path.startswith("/api/burrow/"):
                hint = " (%s is not burrowd, or a burrowd older than this control)" % self.http_url
            raise BurrowError("%s %s: %d %s%s" % (method, path, e.code, reason, hint),
                              status=e.code, body=text) from None
        except OSError as e:  # refused, reset, timeout
            self.check_alive()
            raise BurrowError("%s %s%s: %s" % (method, self.http_url, path, e)) from None
        return json.loads(raw) if raw else None

    def _read_ready_line(self, timeout, args):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        data = b""
        while b"\n" not in data:
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise BurrowStartError("burrowd printed no ready line within %g s (%s)%s"
                                       % (timeout, " ".join(args), self._stderr_tail()))
            chunk = os.read(fd, 4096)
            if not chunk:
                try:
                    code = self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:  # closed stdout but lives on
                    self._kill()
                    code = self.proc.returncode
                self._join()
                raise BurrowStartError("burrowd exited with %s before it was ready (%s)%s"
                                       % (code, " ".join(args), self._stderr_tail()))
            data += chunk
        line = data.partition(b"\n")[0].decode("utf-8", "replace").strip()
        if not line.startswith(READY_PREFIX):
            raise BurrowStartError("unexpected first line from burrowd: %r" % line)
        return line

    def _pump(self, stream, keep):
        """Reads `stream` on a daemon thread so burrowd never blocks on a full pipe."""
        def run():
            for chunk in iter(lambda: stream.read1(4096), b""):
                if keep:
                    with self._lock:
                        self._stderr.append(chunk)
                        self._stderr_size += len(chunk)
                        while self._stderr_size - len(self._stderr[0]) >= STDERR_KEPT:
                            self._stderr_size -= len(self._stderr.popleft())
        thread = threading.Thread(target=run, name="burrowd-pipe", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _join(self):
        for thread in self._threads:
            thread.join(2)

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._join()

    def _stderr_tail(self):
        """stderr for an error message: its start (usually the cause) and its end."""
        err = self.stderr().strip()
        if not err:
            return "; nothing on stderr"
        if len(err) > 4000:
            err = err[:1500] + "\n[...]\n" + err[-2500:]
        return "; stderr:\n" + err


# -- pytest wiring -----------------------------------------------------------------------------

_BROKER_KEY = pytest.StashKey()

def pytest_addoption(parser):
    group = parser.getgroup("burrow", "burrowd test double (pytest_burrow)")
    group.addoption("--burrowd", metavar="PATH", default=None,
                    help="the burrowd binary (default: $%s, else burrowd on PATH)" % ENV_BURROWD)
    group.addoption("--burrow-record", action="store_true", default=None,
                    help="start burrowd with --record (burrow.published())")
    parser.addini("burrow_record", type="bool", default=False,
                  help="start burrowd with --record (burrow.published())")
    parser.addini("burrow_clock", default="manual",
                  help="burrowd's clock: manual (default; TTLs fire on burrow.advance()) or "
                  "system (real time, as RabbitMQ)")
    parser.addini("burrowd_args", type="args", default=[],
                  help="extra burrowd command-line arguments, e.g. --consumer-timeout 5000")
    parser.addini("burrow_start_timeout", default="10",
                  help="seconds to wait for burrowd's ready line (default 10)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "burrow_record: the session's burrowd is started with --record, so "
        "burrow.published() lists what was published")


def _wants_record(config, session):
    if config.getoption("burrow_record") or config.getini("burrow_record"):
        return True
    return any(item.get_closest_marker("burrow_record") for item in session.items)


@pytest.fixture(scope="session")
def burrow_broker(request):
    """The session's broker: burrowd started with a manual clock on free ports, or the one at
    $BURROW_AMQP_URL. Stopped with SIGTERM at the end of the session. No reset: use `burrow`."""
    config = request.config
    url = os.environ.get(ENV_AMQP_URL)
    if url:
        broker = BurrowBroker.attach(url, os.environ.get(ENV_HTTP_URL))
    else:
        binary = config.getoption("burrowd") or os.environ.get(ENV_BURROWD) or "burrowd"
        error = None
        try:
            broker = BurrowBroker.start(
                binary, record=_wants_record(config, request.session),
                clock=config.getini("burrow_clock"),
                extra_args=config.getini("burrowd_args"),
                timeout=float(config.getini("burrow_start_timeout")))
        except BurrowStartError as e:
            error = e
        if error is not None:  # failed outside the except block: no chained traceback
            pytest.fail("pytest_burrow: %s" % error, pytrace=False)
    config.stash[_BROKER_KEY] = broker  # for the terminal summary
    yield broker
    _fail_on_error(broker.stop)


@pytest.fixture
def burrow(burrow_broker):
    """The session's broker, reset before the test (a fresh broker in a few ms). Skips the
    test if $BURROW_AMQP_URL points at a broker without burrowd's controls."""
    _check_alive(burrow_broker)
    if not burrow_broker.has_controls:
        pytest.skip("needs burrowd's test controls: %s" % burrow_broker.controls_error)
    burrow_broker.reset()
    yield burrow_broker
    _check_alive(burrow_broker)


@pytest.fixture
def amqp_url(burrow_broker):
    """The AMQP URL of a broker reset before the test. Against a broker without burrowd's
    controls ($BURROW_AMQP_URL at RabbitMQ) it is the URL alone: isolation is the test's."""
    _check_alive(burrow_broker)
    if burrow_broker.has_controls:
        burrow_broker.reset()
    yield burrow_broker.url
    _check_alive(burrow_broker)


def _check_alive(broker):
    _fail_on_error(broker.check_alive)


def _fail_on_error(action):
    """Runs action(); a BurrowError becomes a pytest failure without a traceback."""
    error = None
    try:
        action()
    except BurrowError as e:
        error = e
    if error is not None:
        pytest.fail("pytest_burrow: %s" % error, pytrace=False)


def pytest_terminal_summary(terminalreporter, config):
    broker = config.stash.get(_BROKER_KEY, None)
    if broker is None or not broker.reset_seconds or config.getoption("verbose") < 1:
        return
    times = broker.reset_seconds
    terminalreporter.write_line(
        "burrowd: %d resets, mean %.1f ms, max %.1f ms, total %.2f s"
        % (len(times), 1000 * sum(times) / len(times), 1000 * max(times), sum(times)))
