"""The recorder ``t`` every scenario receives.

A scenario talks to the broker only through this object. Everything the
client sees is appended to ``t.events`` (a list of dicts); after the
scenario the list is normalised (names, server-generated identifiers,
timestamps) and compared with, or written as, the golden transcript.

Determinism rules the helpers enforce:

* pika dispatches broker-initiated events (deliveries, broker cancels,
  returns without confirms) only inside ``t.drain`` / ``t.wait_until``. They
  are buffered per channel and logged at the end of the drain, channel by
  channel in creation order, so interleaving between channels never shows.
* Every synchronous operation runs under a per-operation deadline; a broker
  that never answers produces a ``timeout`` event and ends the scenario.
"""

import re
import signal
import socket
import struct
import time
import urllib.parse

import pika
import pika.exceptions as pexc
import pika.frame
import pika.spec

from . import wire

OP_TIMEOUT = 4.0
RAW_TIMEOUT = 3.0


class ScenarioAbort(Exception):
    """Raised to end a scenario after a logged timeout or lost connection."""


class OpTimeout(Exception):
    pass


class Target:
    """Where the broker under test listens."""

    def __init__(self, url):
        parts = urllib.parse.urlparse(url)
        self.host = parts.hostname or '127.0.0.1'
        self.port = parts.port or 5672
        self.user = urllib.parse.unquote(parts.username or 'guest')
        self.password = urllib.parse.unquote(parts.password or 'guest')
        vhost = parts.path[1:] if parts.path else ''
        self.vhost = urllib.parse.unquote(vhost) if vhost else '/'
        self.url = url

    def parameters(self, **overrides):
        params = dict(host=self.host, port=self.port, virtual_host=self.vhost,
                      credentials=pika.PlainCredentials(self.user,
                                                        self.password),
                      connection_attempts=1, socket_timeout=5,
                      stack_timeout=10, blocked_connection_timeout=None)
        params.update(overrides)
        return pika.ConnectionParameters(**params)


def _close_info(exc):
    cm = getattr(exc, 'close_method', None)
    return {'code': exc.reply_code, 'text': exc.reply_text,
            'method': '%d.%d' % cm if cm else None}


def _returned(method, props, body):
    return {'reply_code': method.reply_code, 'reply_text': method.reply_text,
            'exchange': method.exchange, 'routing_key': method.routing_key,
            'props': wire.format_properties(props),
            'body': wire.format_body(body)}


def _message(method, props, body):
    out = wire.method_fields(method)
    out['props'] = wire.format_properties(props)
    out['body'] = wire.format_body(body)
    return out


class Recorder:
    def __init__(self, target, scenario, prefix):
        self.target = target
        self.scenario = scenario
        self.prefix = prefix
        self.events = []
        self.names = []
        self.conns = []
        self.raws = []
        self._deadline = None   # scenario deadline (monotonic)
        self._poll_conn = None
        self._poll_ch = None

    # -- names --------------------------------------------------------------

    def name(self, local):
        """A queue/exchange name unique to this run, '<p>.local' in the
        transcript."""
        full = '%s.%s' % (self.prefix, local)
        if full not in self.names:
            self.names.append(full)
        return full

    # -- logging ------------------------------------------------------------

    def log(self, event, **fields):
        entry = {'event': event}
        entry.update(fields)
        self.events.append(entry)

    def _log(self, entry):
        self.events.append(entry)

    # -- deadlines ----------------------------------------------------------

    def _arm(self, seconds):
        left = seconds
        if self._deadline is not None:
            left = min(left, self._deadline - time.monotonic())
        signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))

    def _disarm(self):
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
        else:
            signal.setitimer(signal.ITIMER_REAL, 0)

    # -- connections ----------------------------------------------------------

    def connect(self, label=None, **overrides):
        """A pika BlockingConnection wrapper. Connection failures are
        logged (e.g. refused login) and return None."""
        label = label or 'c%d' % (len(self.conns) + 1)
        params = self.target.parameters(**overrides)
        self._arm(OP_TIMEOUT)
        try:
            conn = pika.BlockingConnection(params)
        except OpTimeout:
            self._log({'op': 'connect', 'conn': label, 'error': 'timeout'})
            raise ScenarioAbort()
        except pexc.AMQPError as exc:
            self._log({'op': 'connect', 'conn': label,
                       'error': type(exc).__name__})
            return None
        finally:
            self._disarm()
        wrapped = Conn(self, conn, label)
        self.conns.append(wrapped)
        return wrapped

    def channel(self, conn=None):
        """A channel on ``conn`` (or on a fresh connection)."""
        return (conn or self.connect()).channel()

    def raw(self, label=None, capabilities=None, handshake=True):
        """A hand-driven connection speaking frames through pika's codec."""
        label = label or 'r%d' % (len(self.raws) + 1)
        raw = RawConn(self, label)
        self.raws.append(raw)
        if handshake:
            raw.handshake(capabilities)
        return raw

    # -- waiting --------------------------------------------------------------

    def sleep(self, seconds):
        """Wait while keeping every pika connection's socket serviced."""
        self._pump(seconds, None)
        self._flush_async()

    drain = sleep

    def wait_until(self, predicate, timeout=3.0, settle=0.05):
        """Process events until predicate() holds (or timeout), then a short
        settle period so that extra, unexpected events show up too."""
        self._pump(timeout, predicate)
        if settle:
            self._pump(settle, None)
        self._flush_async()

    def _pump(self, seconds, predicate):
        end = time.monotonic() + seconds
        first = True
        while True:
            live = [c for c in self.conns if c.is_open()]
            if predicate is not None and predicate():
                return
            now = time.monotonic()
            if now >= end and not first:
                return
            first = False
            if not live:
                time.sleep(max(0, min(0.01, end - now)))
                continue
            slice_ = max(0, min(0.01, end - now))
            for c in live:
                try:
                    c.conn.process_data_events(time_limit=slice_
                                               if len(live) == 1 else 0)
                except pexc.ConnectionClosedByBroker as exc:
                    c.on_async({'event': 'connection_closed',
                                **_close_info(exc)})
                except (pexc.AMQPError, OSError) as exc:
                    c.on_async({'event': 'connection_lost',
                                'error': type(exc).__name__})
            if len(live) > 1:
                time.sleep(slice_)

    def _flush_async(self):
        for c in self.conns:
            for ch in c.channels:
                if ch.pending:
                    for ev in ch.pending:
                        ev = dict(ev)
                        self._log({'async': ev.pop('event'), 'ch': ch.label,
                                   **ev})
                    ch.pending = []
            if c.pending:
                for ev in c.pending:
                    ev = dict(ev)
                    self._log({'async': ev.pop('event'), 'conn': c.label,
                               **ev})
                c.pending = []

    def wait_count(self, queue, n, timeout=2.0):
        """Silently poll (passive declares on a private connection, not
        logged) until ``queue`` holds at least n ready messages or timeout.
        Used where RabbitMQ moves messages asynchronously (dead-lettering)
        so that the logged basic.get that follows is deterministic."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._arm(OP_TIMEOUT)
            try:
                if self._poll_conn is None or not self._poll_conn.is_open:
                    self._poll_conn = pika.BlockingConnection(
                        self.target.parameters())
                    self._poll_ch = None
                if self._poll_ch is None or not self._poll_ch.is_open:
                    self._poll_ch = self._poll_conn.channel()
                ok = self._poll_ch.queue_declare(queue, passive=True)
                if ok.method.message_count >= n:
                    return True
            except OpTimeout:
                raise
            except Exception:
                self._poll_ch = None
            finally:
                self._disarm()
            time.sleep(0.02)
        return False

    # -- teardown -------------------------------------------------------------

    def close_all(self):
        try:
            if self._poll_conn is not None and self._poll_conn.is_open:
                self._poll_conn.close()
        except Exception:
            pass
        for raw in self.raws:
            raw.close_socket()
        for c in self.conns:
            try:
                if c.conn.is_open:
                    c.conn.close()
            except Exception:
                pass


class Conn:
    def __init__(self, t, conn, label):
        self.t = t
        self.conn = conn
        self.label = label
        self.channels = []
        self.pending = []

    def is_open(self):
        return self.conn.is_open

    def on_async(self, ev):
        self.pending.append(ev)

    def channel(self):
        self.t._arm(OP_TIMEOUT)
        try:
            ch = self.conn.channel()
        except OpTimeout:
            self.t._log({'op': 'channel.open', 'conn': self.label,
                         'error': 'timeout'})
            raise ScenarioAbort()
        except pexc.ConnectionClosedByBroker as exc:
            self.t._log({'op': 'channel.open', 'conn': self.label,
                         'connection_closed': _close_info(exc)})
            return None
        except (pexc.ConnectionWrongStateError, pexc.StreamLostError,
                pexc.ConnectionClosed) as exc:
            self.t._log({'op': 'channel.open', 'conn': self.label,
                         'error': type(exc).__name__})
            return None
        finally:
            self.t._disarm()
        wrapped = Chan(self, ch)
        self.channels.append(wrapped)
        return wrapped

    def close(self):
        """Client-initiated connection.close (logged)."""
        self.t._arm(OP_TIMEOUT)
        try:
            self.conn.close()
            self.t._log({'op': 'connection.close', 'conn': self.label,
                         'ok': True})
        except OpTimeout:
            self.t._log({'op': 'connection.close', 'conn': self.label,
                         'error': 'timeout'})
            raise ScenarioAbort()
        except Exception as exc:
            self.t._log({'op': 'connection.close', 'conn': self.label,
                         'error': type(exc).__name__})
        finally:
            self.t._disarm()


class Chan:
    """A BlockingChannel wrapper whose operations log their outcome."""

    def __init__(self, conn, ch):
        self.c = conn
        self.t = conn.t
        self.ch = ch
        # label by creation order: pika reuses the numbers of closed channels
        self.label = '%s.%d' % (conn.label, len(conn.channels) + 1)
        self.pending = []
        self.deliveries = []
        self.confirming = False
        ch.add_on_return_callback(self._on_return)
        ch.add_on_cancel_callback(self._on_cancel)

    @property
    def number(self):
        return self.ch.channel_number

    # -- async events ---------------------------------------------------------

    def _on_return(self, _ch, method, props, body):
        if self.confirming:
            # in confirm mode pika also raises UnroutableError/NackError
            # carrying the same return; log it once, with the publish
            return
        self.pending.append({'event': 'basic.return',
                             **_returned(method, props, body)})

    def _on_cancel(self, method_frame):
        self.pending.append({'event': 'basic.cancel',
                             **wire.method_fields(method_frame.method)})

    def _on_deliver(self, _ch, method, props, body):
        msg = _message(method, props, body)
        self.deliveries.append(msg)
        self.pending.append({'event': 'basic.deliver', **msg})

    # -- generic operation ----------------------------------------------------

    def _op(self, op, fn, *args, **kwargs):
        """Run fn, log {'op': op, ...outcome}. Returns (ok, result)."""
        entry = {'op': op, 'ch': self.label}
        self.t._arm(OP_TIMEOUT)
        try:
            result = fn(*args, **kwargs)
        except OpTimeout:
            entry['error'] = 'timeout'
            self.t._log(entry)
            raise ScenarioAbort()
        except pexc.ChannelClosedByBroker as exc:
            entry['channel_closed'] = _close_info(exc)
            self.t._log(entry)
            return False, None
        except pexc.ConnectionClosedByBroker as exc:
            entry['connection_closed'] = _close_info(exc)
            self.t._log(entry)
            return False, None
        except (pexc.StreamLostError, pexc.ConnectionWrongStateError,
                pexc.ChannelWrongStateError, pexc.ChannelClosed,
                pexc.ConnectionClosed) as exc:
            entry['error'] = type(exc).__name__
            self.t._log(entry)
            return False, None
        finally:
            self.t._disarm()
        return True, (entry, result)

    def _simple(self, op, fn, *args, **kwargs):
        ok, res = self._op(op, fn, *args, **kwargs)
        if not ok:
            return None
        entry, result = res
        if isinstance(result, pika.frame.Method):
            entry['reply'] = wire.method_name(result.method)
            entry.update(wire.method_fields(result.method))
        else:
            entry['ok'] = True
        self.t._log(entry)
        return result if result is not None else True

    # -- exchanges and queues -----------------------------------------------

    def exchange_declare(self, exchange, exchange_type='direct', **kw):
        return self._simple('exchange.declare', self.ch.exchange_declare,
                            exchange, exchange_type, **kw)

    def exchange_delete(self, exchange, if_unused=False):
        return self._simple('exchange.delete', self.ch.exchange_delete,
                            exchange, if_unused=if_unused)

    def exchange_bind(self, destination, source, routing_key='',
                      arguments=None):
        return self._simple('exchange.bind', self.ch.exchange_bind,
                            destination, source, routing_key,
                            arguments=arguments)

    def exchange_unbind(self, destination, source, routing_key='',
                        arguments=None):
        return self._simple('exchange.unbind', self.ch.exchange_unbind,
                            destination, source, routing_key,
                            arguments=arguments)

    def queue_declare(self, queue, **kw):
        return self._simple('queue.declare', self.ch.queue_declare, queue,
                            **kw)

    def queue_bind(self, queue, exchange, routing_key=None, arguments=None):
        return self._simple('queue.bind', self.ch.queue_bind, queue,
                            exchange, routing_key, arguments=arguments)

    def queue_unbind(self, queue, exchange, routing_key=None,
                     arguments=None):
        return self._simple('queue.unbind', self.ch.queue_unbind, queue,
                            exchange, routing_key, arguments=arguments)

    def queue_purge(self, queue):
        return self._simple('queue.purge', self.ch.queue_purge, queue)

    def queue_delete(self, queue, if_unused=False, if_empty=False):
        return self._simple('queue.delete', self.ch.queue_delete, queue,
                            if_unused=if_unused, if_empty=if_empty)

    # -- basic ----------------------------------------------------------------

    def qos(self, prefetch_count=0, prefetch_size=0, global_qos=False):
        return self._simple('basic.qos', self.ch.basic_qos,
                            prefetch_size=prefetch_size,
                            prefetch_count=prefetch_count,
                            global_qos=global_qos)

    def confirm_select(self):
        res = self._simple('confirm.select', self.ch.confirm_delivery)
        if res:
            self.confirming = True
        return res

    def tx_select(self):
        return self._simple('tx.select', self.ch.tx_select)

    def tx_commit(self):
        return self._simple('tx.commit', self.ch.tx_commit)

    def tx_rollback(self):
        return self._simple('tx.rollback', self.ch.tx_rollback)

    def flow(self, active):
        return self._simple('channel.flow', self.ch.flow, active)

    def recover(self, requeue=True):
        return self._simple('basic.recover', self.ch.basic_recover,
                            requeue=requeue)

    def publish(self, exchange, routing_key, body=b'', mandatory=False,
                log=None, **props):
        """basic.publish. In confirm mode the outcome (ack, nack, returned)
        is logged; otherwise nothing is logged unless pika raises (use
        ``sync`` to surface asynchronous errors and returns)."""
        if isinstance(body, str):
            body = body.encode()
        properties = pika.BasicProperties(**props) if props else None
        op = 'basic.publish'
        entry = {'op': op, 'ch': self.label, 'exchange': exchange,
                 'routing_key': routing_key}
        self.t._arm(OP_TIMEOUT)
        try:
            self.ch.basic_publish(exchange, routing_key, body, properties,
                                  mandatory=mandatory)
            if self.confirming:
                entry['confirm'] = 'ack'
            elif not log:
                return True
            else:
                entry['ok'] = True
        except OpTimeout:
            entry['error'] = 'timeout'
            self.t._log(entry)
            raise ScenarioAbort()
        except pexc.UnroutableError as exc:
            entry['confirm'] = 'ack'
            entry['returned'] = [_returned(m.method, m.properties, m.body)
                                 for m in exc.messages]
        except pexc.NackError as exc:
            entry['confirm'] = 'nack'
            if exc.messages:
                entry['returned'] = [_returned(m.method, m.properties,
                                               m.body)
                                     for m in exc.messages]
        except pexc.ChannelClosedByBroker as exc:
            entry['channel_closed'] = _close_info(exc)
        except pexc.ConnectionClosedByBroker as exc:
            entry['connection_closed'] = _close_info(exc)
        except (pexc.StreamLostError, pexc.ChannelWrongStateError,
                pexc.ConnectionWrongStateError, pexc.ChannelClosed,
                pexc.ConnectionClosed) as exc:
            entry['error'] = type(exc).__name__
        finally:
            self.t._disarm()
        self.t._log(entry)
        return entry.get('confirm') == 'ack' and 'returned' not in entry

    def sync(self):
        """A harmless round trip (passive declare of amq.direct) that makes
        earlier asynchronous errors and returns visible, then dispatches
        pending async events. Logs only a failure."""
        entry = {'op': 'sync', 'ch': self.label}
        self.t._arm(OP_TIMEOUT)
        try:
            self.ch.exchange_declare('amq.direct', 'direct', passive=True)
        except OpTimeout:
            entry['error'] = 'timeout'
            self.t._log(entry)
            raise ScenarioAbort()
        except pexc.ChannelClosedByBroker as exc:
            entry['channel_closed'] = _close_info(exc)
            self.t._log(entry)
        except pexc.ConnectionClosedByBroker as exc:
            entry['connection_closed'] = _close_info(exc)
            self.t._log(entry)
        except (pexc.AMQPError, OSError) as exc:
            entry['error'] = type(exc).__name__
            self.t._log(entry)
        finally:
            self.t._disarm()
        self.t.drain(0)

    def get(self, queue, auto_ack=False):
        """basic.get; logs the message (or get-empty); returns the
        delivery tag, None if empty, False on error."""
        ok, res = self._op('basic.get', self.ch.basic_get, queue,
                           auto_ack=auto_ack)
        if not ok:
            return False
        entry, (method, props, body) = res
        entry['queue'] = queue
        if method is None:
            entry['reply'] = 'basic.get-empty'
            self.t._log(entry)
            return None
        entry['reply'] = 'basic.get-ok'
        entry.update(_message(method, props, body))
        self.t._log(entry)
        return method.delivery_tag

    def get_all(self, queue, auto_ack=True, limit=50):
        """basic.get until empty; returns the number of messages."""
        n = 0
        while n < limit:
            tag = self.get(queue, auto_ack=auto_ack)
            if not tag:
                break
            n += 1
        return n

    def _ack_op(self, op, fn, *args, **kwargs):
        """ack/nack/reject have no reply: they are followed by a round trip
        so that an error (406 unknown delivery tag) is logged with them."""
        entry = {'op': op, 'ch': self.label}
        entry.update(kwargs.pop('_fields'))
        self.t._arm(OP_TIMEOUT)
        try:
            fn(*args, **kwargs)
            # round trip: a 406 caused by this ack arrives before the reply
            self.ch.exchange_declare('amq.direct', 'direct', passive=True)
        except OpTimeout:
            entry['error'] = 'timeout'
            self.t._log(entry)
            raise ScenarioAbort()
        except pexc.ChannelClosedByBroker as exc:
            entry['channel_closed'] = _close_info(exc)
        except pexc.ConnectionClosedByBroker as exc:
            entry['connection_closed'] = _close_info(exc)
        except (pexc.AMQPError, OSError) as exc:
            entry['error'] = type(exc).__name__
        finally:
            self.t._disarm()
        self.t._log(entry)

    def ack(self, tag, multiple=False):
        self._ack_op('basic.ack', self.ch.basic_ack, tag, multiple,
                     _fields={'delivery_tag': tag, 'multiple': multiple})

    def nack(self, tag, multiple=False, requeue=True):
        self._ack_op('basic.nack', self.ch.basic_nack, tag, multiple,
                     requeue,
                     _fields={'delivery_tag': tag, 'multiple': multiple,
                              'requeue': requeue})

    def reject(self, tag, requeue=True):
        self._ack_op('basic.reject', self.ch.basic_reject, tag, requeue,
                     _fields={'delivery_tag': tag, 'requeue': requeue})

    def consume(self, queue, tag, auto_ack=False, exclusive=False,
                arguments=None):
        """basic.consume with an explicit consumer tag; deliveries are
        buffered and logged by t.drain()/t.wait_until()."""
        ok, res = self._op('basic.consume', self.ch.basic_consume, queue,
                           self._on_deliver, auto_ack=auto_ack,
                           exclusive=exclusive, consumer_tag=tag,
                           arguments=arguments)
        if not ok:
            return None
        entry, result = res
        entry['queue'] = queue
        entry['reply'] = 'basic.consume-ok'
        entry['consumer_tag'] = result
        self.t._log(entry)
        return result

    def cancel(self, tag):
        ok, res = self._op('basic.cancel', self.ch.basic_cancel, tag)
        if not ok:
            return None
        entry, result = res
        entry['reply'] = 'basic.cancel-ok'
        entry['consumer_tag'] = tag
        self.t._log(entry)
        return True

    def close(self):
        """Client-initiated channel.close (logged)."""
        return self._simple('channel.close', self.ch.close)

    @property
    def is_open(self):
        return self.ch.is_open


# ---------------------------------------------------------------------------
# Raw frames
# ---------------------------------------------------------------------------

class RawConn:
    """A socket that speaks AMQP frames encoded and decoded by pika.spec.

    Frames the broker sends are logged as {'recv': 'class.method', 'ch': N,
    ...fields}; content (header+body) is merged into the preceding method
    entry as props/body.
    """

    def __init__(self, t, label):
        self.t = t
        self.label = label
        self.sock = socket.create_connection((t.target.host, t.target.port),
                                             timeout=RAW_TIMEOUT)
        self.buf = b''
        self.eof = False
        self.closed = False
        self._content_for = None
        self._content = None

    def close_socket(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- sending -------------------------------------------------------------

    def send(self, channel, method, props=None, body=None):
        data = pika.frame.Method(channel, method).marshal()
        if props is not None or body is not None:
            body = body or b''
            if isinstance(body, str):
                body = body.encode()
            data += pika.frame.Header(channel, len(body),
                                      props or pika.BasicProperties()
                                      ).marshal()
            if body:
                data += pika.frame.Body(channel, body).marshal()
        try:
            self.sock.sendall(data)
        except OSError as exc:
            self.t._log({'raw': self.label, 'send_error':
                         type(exc).__name__})

    # -- receiving -----------------------------------------------------------

    def _read_frame(self, deadline):
        while True:
            if len(self.buf) >= 7:
                size = struct.unpack('>I', self.buf[3:7])[0]
                if len(self.buf) >= size + 8:
                    consumed, frame = pika.frame.decode_frame(self.buf)
                    self.buf = self.buf[consumed:]
                    if isinstance(frame, pika.frame.Heartbeat):
                        continue
                    return frame
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                chunk = b''
            if not chunk:
                self.eof = True
                return None
            self.buf += chunk

    def _handle(self, frame):
        """Log a frame; answer closes. Returns the logged entry (or None
        for content frames merged into an earlier entry)."""
        if isinstance(frame, pika.frame.Method):
            m = frame.method
            entry = {'raw': self.label, 'recv': wire.method_name(m),
                     'ch': frame.channel_number}
            entry.update(wire.method_fields(m))
            if isinstance(m, pika.spec.Channel.Close):
                entry['method'] = '%d.%d' % (m.class_id, m.method_id)
                del entry['class_id'], entry['method_id']
                self.send(frame.channel_number, pika.spec.Channel.CloseOk())
            elif isinstance(m, pika.spec.Connection.Close):
                entry['method'] = '%d.%d' % (m.class_id, m.method_id)
                del entry['class_id'], entry['method_id']
                self.send(0, pika.spec.Connection.CloseOk())
                self.closed = True
            if isinstance(m, (pika.spec.Basic.Deliver, pika.spec.Basic.GetOk,
                              pika.spec.Basic.Return)):
                self._content_for = entry
            self.t._log(entry)
            return entry
        if isinstance(frame, pika.frame.Header):
            if self._content_for is not None:
                self._content_for['props'] = wire.format_properties(
                    frame.properties)
                self._content_for['body'] = ''
                self._content = b''
                self._size = frame.body_size
            return None
        if isinstance(frame, pika.frame.Body):
            if self._content_for is not None:
                self._content += frame.fragment
                self._content_for['body'] = wire.format_body(self._content)
            return None
        self.t._log({'raw': self.label, 'recv': type(frame).__name__})
        return None

    def read(self, until=None, timeout=RAW_TIMEOUT, quiet=None):
        """Read and log frames.

        until: method names (e.g. {'basic.consume-ok'}) that end the read;
        channel.close / connection.close always end it. With quiet=S, read
        until no frame arrived for S seconds instead. A timeout while
        waiting for ``until`` is logged.
        """
        until = set(until or ())
        deadline = time.monotonic() + timeout
        while True:
            if quiet is not None:
                wait_end = min(deadline, time.monotonic() + quiet)
            else:
                wait_end = deadline
            frame = self._read_frame(wait_end)
            if frame is None:
                if self.eof:
                    self.t._log({'raw': self.label, 'recv': 'eof'})
                elif quiet is None or time.monotonic() >= deadline:
                    if until:
                        self.t._log({'raw': self.label, 'recv': 'timeout'})
                return None
            entry = self._handle(frame)
            if entry is None:
                continue
            name = entry['recv']
            if name in until or name in ('channel.close',
                                         'connection.close'):
                # let content frames of a get-ok/deliver arrive first
                if name in ('basic.get-ok', 'basic.deliver'):
                    self._read_content(deadline)
                return entry

    def _read_content(self, deadline):
        size = None
        while True:
            frame = self._read_frame(deadline)
            if frame is None:
                return
            self._handle(frame)
            if isinstance(frame, pika.frame.Header):
                size = frame.body_size
            if size is not None and len(self._content) >= size:
                return

    def call(self, channel, method, until, props=None, body=None,
             timeout=RAW_TIMEOUT):
        """Send a method and read until one of ``until`` (or a close)."""
        self.t._log({'raw': self.label, 'send': wire.method_name(method),
                     'ch': channel})
        self.send(channel, method, props, body)
        if isinstance(until, str):
            until = {until}
        return self.read(until, timeout)

    def handshake(self, capabilities=None):
        self.sock.sendall(b'AMQP\x00\x00\x09\x01')
        deadline = time.monotonic() + RAW_TIMEOUT
        start = self._read_frame(deadline)
        if not isinstance(start, pika.frame.Method):
            self.t._log({'raw': self.label, 'handshake': 'no start'})
            raise ScenarioAbort()
        props = {'product': 'burrow-differential'}
        if capabilities is not None:
            props['capabilities'] = capabilities
        response = '\0%s\0%s' % (self.t.target.user, self.t.target.password)
        self.send(0, pika.spec.Connection.StartOk(
            client_properties=props, mechanism='PLAIN', response=response,
            locale='en_US'))
        tune = self._read_frame(deadline)
        if not isinstance(tune, pika.frame.Method) or \
                not isinstance(tune.method, pika.spec.Connection.Tune):
            self.t._log({'raw': self.label, 'handshake': 'no tune'})
            raise ScenarioAbort()
        self.send(0, pika.spec.Connection.TuneOk(
            channel_max=tune.method.channel_max,
            frame_max=tune.method.frame_max, heartbeat=0))
        self.send(0, pika.spec.Connection.Open(
            virtual_host=self.t.target.vhost))
        opened = self._read_frame(deadline)
        if not isinstance(opened, pika.frame.Method) or \
                not isinstance(opened.method, pika.spec.Connection.OpenOk):
            self.t._log({'raw': self.label, 'handshake': 'no open-ok'})
            raise ScenarioAbort()

    def open_channel(self, channel=1):
        return self.call(channel, pika.spec.Channel.Open(), 'channel.open-ok')


# ---------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------

_PATTERNS = [
    (re.compile(r'amq\.gen-[A-Za-z0-9_\-]{22}'), 'amq.gen'),
    (re.compile(r'amq\.ctag-[A-Za-z0-9_\-]{22}'), 'amq.ctag'),
    (re.compile(r'amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=_.\-]+'),
     'amq.rabbitmq.reply-to'),
]


def normalise(events, prefix):
    """Replace the run prefix by '<p>' and server-generated identifiers by
    numbered placeholders (stable within one transcript)."""
    maps = {kind: {} for _, kind in _PATTERNS}

    def fix(s):
        s = s.replace(prefix, '<p>')
        for regex, kind in _PATTERNS:
            def sub(m, kind=kind):
                table = maps[kind]
                if m.group(0) not in table:
                    table[m.group(0)] = '<%s-%d>' % (kind, len(table) + 1)
                return table[m.group(0)]
            s = regex.sub(sub, s)
        return s

    def walk(v):
        if isinstance(v, str):
            return fix(v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {fix(k): walk(x) for k, x in v.items()}
        return v

    return walk(events)
