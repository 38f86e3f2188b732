"""Wire-level helpers: typed field values (out and in) and pika patches.

pika 1.2.0 loses AMQP type information in both directions: it encodes every
small Python int as 'I' (signedint) and decodes 'l' as unsigned, 'b'/'B'
swapped, floats truncated to ints. The differential transcripts must show the
exact AMQP type of every header value (x-death 'count' is a long, 'time' a
timestamp), so this module

* offers ``Typed`` values that pika encodes with an explicit type tag, and
* keeps the raw bytes of every received content header's ``headers`` table,
  which ``decode_table`` below turns into type-tagged JSON.
"""

import struct
import time
from decimal import Decimal

import pika
import pika.data
import pika.spec


# ---------------------------------------------------------------------------
# Outgoing: explicit AMQP field types
# ---------------------------------------------------------------------------

_PACK = {
    't': '>B', 'b': '>b', 'B': '>B', 's': '>h', 'u': '>H', 'I': '>i',
    'i': '>I', 'l': '>q', 'f': '>f', 'd': '>d', 'T': '>Q',
}


class Typed:
    """A field value with an explicit AMQP 0-9-1 type tag (RabbitMQ table)."""

    __slots__ = ('kind', 'value')

    def __init__(self, kind, value=None):
        if kind not in _PACK and kind not in ('S', 'x', 'V', 'D'):
            raise ValueError('unsupported field type %r' % kind)
        self.kind = kind
        self.value = value

    def encode(self):
        kind = self.kind
        if kind in _PACK:
            value = int(self.value) if kind == 't' else self.value
            return kind.encode() + struct.pack(_PACK[kind], value)
        if kind in ('S', 'x'):
            raw = self.value.encode() if isinstance(self.value, str) \
                else bytes(self.value)
            return kind.encode() + struct.pack('>I', len(raw)) + raw
        if kind == 'D':
            scale, digits = self.value
            return b'D' + struct.pack('>Bi', scale, digits)
        return b'V'

    def __repr__(self):
        return 'Typed(%r, %r)' % (self.kind, self.value)


def long_(v):
    """AMQP long-long-int ('l'), as RabbitMQ writes integers."""
    return Typed('l', v)


def signed_int(v):
    return Typed('I', v)


def short_(v):
    return Typed('s', v)


def byte_(v):
    return Typed('b', v)


def double_(v):
    return Typed('d', v)


def float_(v):
    return Typed('f', v)


def bytes_(v):
    return Typed('x', v)


def void():
    return Typed('V')


def decimal_(scale, digits):
    return Typed('D', (scale, digits))


_orig_encode_value = pika.data.encode_value


def _encode_value(pieces, value):
    if isinstance(value, Typed):
        raw = value.encode()
        pieces.append(raw)
        return len(raw)
    return _orig_encode_value(pieces, value)


# ---------------------------------------------------------------------------
# Incoming: keep the raw headers table of every content header
# ---------------------------------------------------------------------------

_orig_props_decode = pika.spec.BasicProperties.decode
_BP = pika.spec.BasicProperties


def _props_decode(self, encoded, offset=0):
    start = offset
    flags = 0
    index = 0
    while True:
        partial = struct.unpack_from('>H', encoded, offset)[0]
        offset += 2
        flags |= partial << (index * 16)
        if not partial & 1:
            break
        index += 1
    raw = None
    if flags & _BP.FLAG_HEADERS:
        if flags & _BP.FLAG_CONTENT_TYPE:
            offset += 1 + encoded[offset]
        if flags & _BP.FLAG_CONTENT_ENCODING:
            offset += 1 + encoded[offset]
        size = struct.unpack_from('>I', encoded, offset)[0]
        raw = bytes(encoded[offset:offset + 4 + size])
    result = _orig_props_decode(self, encoded, start)
    self.raw_headers = raw
    return result


# ---------------------------------------------------------------------------
# Close frames: keep class_id/method_id, which pika's exceptions drop
# ---------------------------------------------------------------------------

def _patch_close_methods():
    import pika.channel
    import pika.connection
    import pika.exceptions

    orig_channel_close = pika.channel.Channel._on_close_from_broker

    def channel_close(self, method_frame):
        orig_channel_close(self, method_frame)
        m = method_frame.method
        reason = getattr(self, '_closing_reason', None)
        if reason is not None:
            reason.close_method = (m.class_id, m.method_id)

    pika.channel.Channel._on_close_from_broker = channel_close

    def connection_close(self, method_frame):
        m = method_frame.method
        error = pika.exceptions.ConnectionClosedByBroker(m.reply_code,
                                                         m.reply_text)
        error.close_method = (m.class_id, m.method_id)
        self._terminate_stream(error)

    pika.connection.Connection._on_connection_close_from_broker = \
        connection_close


_patched = False


def install_patches():
    global _patched
    if _patched:
        return
    _patched = True
    pika.data.encode_value = _encode_value
    pika.spec.BasicProperties.decode = _props_decode
    _patch_close_methods()


# ---------------------------------------------------------------------------
# Typed decoding of received tables into JSON-friendly values
# ---------------------------------------------------------------------------

# Timestamps within this many seconds of now are server-generated (x-death
# 'time') and are replaced by a placeholder; older/newer ones were set by
# the scenario and are kept.
TIMESTAMP_WINDOW = 86400


class _Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        chunk = self.data[self.pos:self.pos + n]
        if len(chunk) != n:
            raise ValueError('truncated table')
        self.pos += n
        return chunk

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]


def _text(raw):
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return '#' + raw.hex()


def _fmt_float(v):
    return repr(float(v))


def _value(r):
    kind = r.take(1).decode('latin-1')
    if kind == 't':
        return 't:' + ('true' if r.unpack('>B') else 'false')
    if kind in ('b', 'B', 's', 'u', 'I', 'i', 'l', 'L'):
        fmt = {'b': '>b', 'B': '>B', 's': '>h', 'u': '>H', 'I': '>i',
               'i': '>I', 'l': '>q', 'L': '>q'}[kind]
        return '%s:%d' % (kind, r.unpack(fmt))
    if kind == 'f':
        return 'f:' + _fmt_float(r.unpack('>f'))
    if kind == 'd':
        return 'd:' + _fmt_float(r.unpack('>d'))
    if kind == 'D':
        scale = r.unpack('>B')
        digits = r.unpack('>i')
        return 'D:' + str(Decimal(digits).scaleb(-scale))
    if kind == 'T':
        value = r.unpack('>Q')
        if abs(value - time.time()) < TIMESTAMP_WINDOW:
            return 'T:<timestamp>'
        return 'T:%d' % value
    if kind == 'S':
        return 'S:' + _text(r.take(r.unpack('>I')))
    if kind == 'x':
        return 'x:' + r.take(r.unpack('>I')).hex()
    if kind == 'V':
        return 'V'
    if kind == 'F':
        return _table(r)
    if kind == 'A':
        end = r.unpack('>I') + r.pos
        items = []
        while r.pos < end:
            items.append(_value(r))
        return items
    raise ValueError('unknown field type %r' % kind)


def _table(r):
    end = r.unpack('>I') + r.pos
    out = {}
    while r.pos < end:
        key = _text(r.take(r.unpack('>B')))
        out[key] = _value(r)
    return out


def decode_table(raw):
    """Raw table bytes (with length prefix) -> {key: 'type:value' | ...}.

    Scalars become 'k:value' strings (k = AMQP type tag, e.g. 'l:1',
    'S:text', 'T:<timestamp>', 'V' for void); tables become dicts in wire
    order; arrays become lists.
    """
    return _table(_Reader(raw))


# ---------------------------------------------------------------------------
# Formatting pika objects
# ---------------------------------------------------------------------------

PROPERTY_ORDER = ('content_type', 'content_encoding', 'headers',
                  'delivery_mode', 'priority', 'correlation_id', 'reply_to',
                  'expiration', 'message_id', 'timestamp', 'type', 'user_id',
                  'app_id', 'cluster_id')


def format_properties(props):
    out = {}
    if props is None:
        return out
    for key in PROPERTY_ORDER:
        if key == 'headers':
            raw = getattr(props, 'raw_headers', None)
            if raw is not None:
                out['headers'] = decode_table(raw)
            elif props.headers is not None:
                out['headers'] = props.headers
            continue
        value = getattr(props, key, None)
        if value is not None:
            out[key] = value
    return out


def format_body(body):
    if body is None:
        return None
    try:
        return body.decode('utf-8')
    except UnicodeDecodeError:
        return {'hex': body.hex()}


def method_name(method):
    """pika 'Basic.ConsumeOk' -> 'basic.consume-ok'."""
    cls, meth = method.NAME.split('.')
    words = []
    cur = ''
    for ch in meth:
        if ch.isupper() and cur:
            words.append(cur)
            cur = ''
        cur += ch
    words.append(cur)
    return cls.lower() + '.' + '-'.join(w.lower() for w in words)


SKIP_FIELDS = ('ticket',)


def method_fields(method):
    out = {}
    for key, value in vars(method).items():
        if key in SKIP_FIELDS or key.startswith('_'):
            continue
        if isinstance(value, bytes):
            value = format_body(value)
        out[key] = value
    return out
