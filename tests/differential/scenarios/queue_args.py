"""queue.declare argument validation on creation (406 'invalid arg' texts,
arguments of other queue types)."""

from ._util import (declare_attempts, conn_ch, long_, signed_int, short_,
                    byte_, double_, Typed)


def scenario_message_ttl_values(t):
    """x-message-ttl: negative, string, double, > 10 years, bool refused; 0 and
    10 years accepted."""
    declare_attempts(t, [
        ('neg', {'x-message-ttl': long_(-1)}),
        ('str', {'x-message-ttl': '1000'}),
        ('dbl', {'x-message-ttl': double_(1000.0)}),
        ('big', {'x-message-ttl': long_(315360000001)}),
        ('bool', {'x-message-ttl': True}),
        ('zero', {'x-message-ttl': long_(0)}),
        ('max', {'x-message-ttl': long_(315360000000)}),
    ])


def scenario_expires_values(t):
    """x-expires: 0, negative, string, too large refused; 1 and 10 years
    accepted."""
    declare_attempts(t, [
        ('zero', {'x-expires': long_(0)}),
        ('neg', {'x-expires': signed_int(-5)}),
        ('str', {'x-expires': 'soon'}),
        ('big', {'x-expires': long_(315360000001)}),
        ('one', {'x-expires': long_(1)}),
        ('max', {'x-expires': long_(315360000000)}),
    ])


def scenario_max_length_values(t):
    """x-max-length: negative, string, double refused; 0 and short accepted."""
    declare_attempts(t, [
        ('neg', {'x-max-length': long_(-1)}),
        ('str', {'x-max-length': '10'}),
        ('dbl', {'x-max-length': double_(10.0)}),
        ('zero', {'x-max-length': long_(0)}),
        ('short', {'x-max-length': short_(10)}),
    ])


def scenario_max_length_bytes_values(t):
    """x-max-length-bytes: negative, string refused; 0 and 2^40 accepted."""
    declare_attempts(t, [
        ('neg', {'x-max-length-bytes': signed_int(-1)}),
        ('str', {'x-max-length-bytes': '1kb'}),
        ('zero', {'x-max-length-bytes': long_(0)}),
        ('big', {'x-max-length-bytes': long_(2 ** 40)}),
    ])


def scenario_overflow_values(t):
    """x-overflow: unknown values, wrong case, non-strings refused."""
    declare_attempts(t, [
        ('foo', {'x-overflow': 'drop-tail'}),
        ('int', {'x-overflow': long_(1)}),
        ('case', {'x-overflow': 'Drop-Head'}),
        ('head', {'x-overflow': 'drop-head'}),
        ('reject', {'x-overflow': 'reject-publish'}),
        ('rejectdlx', {'x-overflow': 'reject-publish-dlx'}),
    ])


def scenario_dead_letter_exchange_values(t):
    """DLX must be a string; it need not exist."""
    declare_attempts(t, [
        ('int', {'x-dead-letter-exchange': long_(1)}),
        ('bytes', {'x-dead-letter-exchange': Typed('x', b'dlx')}),
        ('empty', {'x-dead-letter-exchange': ''}),
        ('absent', {'x-dead-letter-exchange': 'no-such-exchange'}),
    ])


def scenario_dead_letter_routing_key_values(t):
    """A routing key needs a DLX; the empty DLX counts as one."""
    declare_attempts(t, [
        ('nodlx', {'x-dead-letter-routing-key': 'rk'}),
        ('int', {'x-dead-letter-exchange': 'd',
                 'x-dead-letter-routing-key': long_(1)}),
        ('emptydlx', {'x-dead-letter-exchange': '',
                      'x-dead-letter-routing-key': 'rk'}),
        ('ok', {'x-dead-letter-exchange': 'd',
                'x-dead-letter-routing-key': 'rk'}),
    ])


def scenario_max_priority_values(t):
    """x-max-priority: 256, negative, string, double refused; 0, 255, byte
    accepted."""
    declare_attempts(t, [
        ('big', {'x-max-priority': long_(256)}),
        ('neg', {'x-max-priority': long_(-1)}),
        ('str', {'x-max-priority': '5'}),
        ('dbl', {'x-max-priority': double_(5.0)}),
        ('zero', {'x-max-priority': long_(0)}),
        ('max', {'x-max-priority': long_(255)}),
        ('byte', {'x-max-priority': byte_(10)}),
    ])


def scenario_single_active_consumer_values(t):
    """x-single-active-consumer must be a bool."""
    declare_attempts(t, [
        ('str', {'x-single-active-consumer': 'true'}),
        ('int', {'x-single-active-consumer': long_(1)}),
        ('true', {'x-single-active-consumer': True}),
        ('false', {'x-single-active-consumer': False}),
    ])


def scenario_queue_mode_and_version_values(t):
    """x-queue-mode default/lazy and x-queue-version 1/2 only."""
    declare_attempts(t, [
        ('mode-foo', {'x-queue-mode': 'eager'}),
        ('mode-int', {'x-queue-mode': long_(1)}),
        ('mode-lazy', {'x-queue-mode': 'lazy'}),
        ('mode-default', {'x-queue-mode': 'default'}),
        ('ver-3', {'x-queue-version': long_(3)}),
        ('ver-0', {'x-queue-version': long_(0)}),
        ('ver-str', {'x-queue-version': '2'}),
        ('ver-1', {'x-queue-version': long_(1)}),
        ('ver-2', {'x-queue-version': signed_int(2)}),
    ])


def scenario_queue_type_values(t):
    """x-queue-type: unknown and non-string values refused; classic accepted.
"""
    declare_attempts(t, [
        ('foo', {'x-queue-type': 'lazy'}),
        ('int', {'x-queue-type': long_(1)}),
        ('classic', {'x-queue-type': 'classic'}),
    ])


def scenario_master_locator_values(t):
    """x-queue-master-locator client-local, min-masters, random accepted."""
    declare_attempts(t, [
        ('local', {'x-queue-master-locator': 'client-local'}),
        ('min', {'x-queue-master-locator': 'min-masters'}),
        ('random', {'x-queue-master-locator': 'random'}),
    ])


def scenario_master_locator_unknown_541(t):
    """RabbitMQ 3.10.8 crashes the connection (541 INTERNAL_ERROR) on an
    unknown x-queue-master-locator string."""
    declare_attempts(t, [('foo', {'x-queue-master-locator': 'nearest'})])
    declare_attempts(t, [('int', {'x-queue-master-locator': long_(1)})])
    c, ch = conn_ch(t)
    ch.queue_declare(t.name('foo'), passive=True)


def scenario_other_queue_type_args(t):
    """Arguments of quorum queues and streams are refused on classic
    queues."""
    # x-delivery-limit is left out: Burrow accepts it on classic queues on
    # purpose (scenario other_queue_type_args_explicit_classic shows RabbitMQ).
    declare_attempts(t, [
        ('age', {'x-max-age': '1D'}),
        ('dls', {'x-dead-letter-strategy': 'at-least-once'}),
        ('mil', {'x-max-in-memory-length': long_(5)}),
        ('mib', {'x-max-in-memory-bytes': long_(5)}),
        ('seg', {'x-stream-max-segment-size-bytes': long_(5)}),
        ('ics', {'x-initial-cluster-size': long_(3)}),
        ('ll', {'x-queue-leader-locator': 'balanced'}),
    ])


def scenario_other_queue_type_args_explicit_classic(t):
    """x-delivery-limit with an explicit x-queue-type classic."""
    declare_attempts(t, [
        ('dl', {'x-queue-type': 'classic', 'x-delivery-limit': long_(5)}),
    ])


def scenario_unknown_args_accepted(t):
    """Unknown x- and plain arguments are accepted."""
    declare_attempts(t, [
        ('xfoo', {'x-foo': 'bar'}),
        ('plain', {'foo': long_(1), 'bar': ['a', 'b']}),
        ('prio', {'x-priority': long_(5)}),
        ('table', {'x-custom': {'nested': True}}),
    ])


def scenario_integer_widths_accepted(t):
    """Every AMQP integer type is a valid integer argument."""
    declare_attempts(t, [
        ('b', {'x-max-length': Typed('b', 5)}),
        ('B', {'x-max-length': Typed('B', 5)}),
        ('s', {'x-max-length': Typed('s', 5)}),
        ('u', {'x-max-length': Typed('u', 5)}),
        ('I', {'x-max-length': Typed('I', 5)}),
        ('i', {'x-max-length': Typed('i', 5)}),
        ('l', {'x-max-length': Typed('l', 5)}),
        ('f', {'x-max-length': Typed('f', 5.0)}),
        ('D', {'x-max-length': Typed('D', (0, 5))}),
        ('T', {'x-max-length': Typed('T', 5)}),
    ])


def scenario_first_invalid_wins(t):
    """With several invalid arguments, which one is reported."""
    declare_attempts(t, [
        ('a', {'x-message-ttl': long_(-1), 'x-expires': long_(0)}),
        ('b', {'x-expires': long_(0), 'x-message-ttl': long_(-1)}),
        ('c', {'x-max-length': long_(-1), 'x-max-priority': long_(300)}),
        ('d', {'x-overflow': 'no', 'x-dead-letter-routing-key': 'k'}),
        ('e', {'x-delivery-limit': long_(1), 'x-max-length': long_(-1)}),
        ('f', {'x-dead-letter-exchange': long_(1),
               'x-message-ttl': long_(-1)}),
    ])


def scenario_invalid_args_with_server_name(t):
    """Validation texts name a server-generated queue."""
    c = t.connect()
    ch = c.channel()
    ch.queue_declare('', arguments={'x-max-length': long_(-1)})


def scenario_exclusive_queue_args(t):
    """Arguments are validated for exclusive and auto-delete queues too."""
    declare_attempts(t, [('excl', {'x-expires': long_(0)})], exclusive=True)
    declare_attempts(t, [('ad', {'x-max-priority': long_(999)})],
                     auto_delete=True)
