"""queue.declare on an existing queue: flags and the fixed set of compared
arguments, integer type classes, 405 before 406, passive declares."""

from ._util import (conn_ch, attempt, long_, signed_int, short_, double_,
                    Typed)


def _redeclares(t, first_args, others, local='q', **flags):
    """Declare a queue with first_args, then redeclare it with each of
    others (each on its own channel)."""
    c, ch = conn_ch(t)
    q = t.name(local)
    ch.queue_declare(q, arguments=first_args, **flags)
    for args in others:
        attempt(t, c, 'queue_declare', q, arguments=args, **flags)
    return c, q


def scenario_same_declaration_ok(t):
    """An identical redeclare (flags and arguments) succeeds."""
    c, ch = conn_ch(t)
    q = t.name('q')
    args = {'x-message-ttl': long_(60000), 'x-max-length': long_(10),
            'x-overflow': 'reject-publish', 'x-foo': 'bar'}
    ch.queue_declare(q, durable=True, arguments=args)
    ch.queue_declare(q, durable=True, arguments=args)


def scenario_flags_mismatch_406(t):
    """durable and auto_delete mismatches are 406 inequivalent arg."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    attempt(t, c, 'queue_declare', q, durable=True)
    attempt(t, c, 'queue_declare', q, auto_delete=True)
    q2 = t.name('q2')
    attempt(t, c, 'queue_declare', q2, durable=True, auto_delete=True)
    attempt(t, c, 'queue_declare', q2, durable=False, auto_delete=False)
    attempt(t, c, 'queue_declare', q2, durable=True, auto_delete=False)


def scenario_exclusive_mismatch_owner_405(t):
    """The owner redeclaring its exclusive queue as non-exclusive gets 405;
    a non-exclusive queue redeclared exclusive too."""
    c, ch = conn_ch(t)
    q, q2 = t.name('q'), t.name('q2')
    ch.queue_declare(q, exclusive=True)
    attempt(t, c, 'queue_declare', q, exclusive=False)
    attempt(t, c, 'queue_declare', q, exclusive=True)
    attempt(t, c, 'queue_declare', q2)
    attempt(t, c, 'queue_declare', q2, exclusive=True)


def scenario_owner_redeclare_durable_exclusive(t):
    """exclusive forces durable=false; the owner may redeclare with
    durable=true, and auto_delete is still compared."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q, exclusive=True, durable=True)
    attempt(t, c, 'queue_declare', q, exclusive=True, durable=False)
    attempt(t, c, 'queue_declare', q, exclusive=True, auto_delete=True)


def scenario_405_before_406(t):
    """Another connection redeclaring an exclusive queue with different
    flags and arguments gets 405, not 406."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q, exclusive=True, arguments={'x-max-length': long_(1)})
    other = t.connect()
    attempt(t, other, 'queue_declare', q, durable=True,
            arguments={'x-max-length': long_(2)})
    attempt(t, other, 'queue_declare', q, exclusive=True)


def scenario_compared_numeric_args(t):
    """x-message-ttl, x-expires, x-max-length, x-max-length-bytes, x-max-
    priority are compared."""
    _redeclares(t, {'x-message-ttl': long_(1000), 'x-expires': long_(60000),
                    'x-max-length': long_(5), 'x-max-length-bytes': long_(100),
                    'x-max-priority': long_(3)}, [
        {'x-message-ttl': long_(2000), 'x-expires': long_(60000),
         'x-max-length': long_(5), 'x-max-length-bytes': long_(100),
         'x-max-priority': long_(3)},
        {'x-message-ttl': long_(1000), 'x-expires': long_(1),
         'x-max-length': long_(5), 'x-max-length-bytes': long_(100),
         'x-max-priority': long_(3)},
        {'x-message-ttl': long_(1000), 'x-expires': long_(60000),
         'x-max-length': long_(6), 'x-max-length-bytes': long_(100),
         'x-max-priority': long_(3)},
        {'x-message-ttl': long_(1000), 'x-expires': long_(60000),
         'x-max-length': long_(5), 'x-max-length-bytes': long_(101),
         'x-max-priority': long_(3)},
        {'x-message-ttl': long_(1000), 'x-expires': long_(60000),
         'x-max-length': long_(5), 'x-max-length-bytes': long_(100),
         'x-max-priority': long_(4)},
    ])


def scenario_compared_string_args(t):
    """x-dead-letter-exchange, x-dead-letter-routing-key, x-overflow, x-queue-
    mode are compared."""
    _redeclares(t, {'x-dead-letter-exchange': 'd1',
                    'x-dead-letter-routing-key': 'k1',
                    'x-overflow': 'reject-publish', 'x-queue-mode': 'lazy'}, [
        {'x-dead-letter-exchange': 'd2', 'x-dead-letter-routing-key': 'k1',
         'x-overflow': 'reject-publish', 'x-queue-mode': 'lazy'},
        {'x-dead-letter-exchange': 'd1', 'x-dead-letter-routing-key': 'k2',
         'x-overflow': 'reject-publish', 'x-queue-mode': 'lazy'},
        {'x-dead-letter-exchange': 'd1', 'x-dead-letter-routing-key': 'k1',
         'x-overflow': 'drop-head', 'x-queue-mode': 'lazy'},
        {'x-dead-letter-exchange': 'd1', 'x-dead-letter-routing-key': 'k1',
         'x-overflow': 'reject-publish', 'x-queue-mode': 'default'},
    ])


def scenario_compared_other_args(t):
    """x-single-active-consumer, x-queue-version, x-queue-master-locator are
    compared."""
    _redeclares(t, {'x-single-active-consumer': True,
                    'x-queue-version': long_(1),
                    'x-queue-master-locator': 'client-local'}, [
        {'x-single-active-consumer': False, 'x-queue-version': long_(1),
         'x-queue-master-locator': 'client-local'},
        {'x-single-active-consumer': True, 'x-queue-version': long_(2),
         'x-queue-master-locator': 'client-local'},
        {'x-single-active-consumer': True, 'x-queue-version': long_(1),
         'x-queue-master-locator': 'min-masters'},
    ])


def scenario_arg_present_vs_absent(t):
    """Absent on one side and present on the other is a mismatch, both
    ways round."""
    c, q = _redeclares(t, {'x-max-length': long_(5)}, [{}])
    _redeclares(t, {}, [{'x-max-length': signed_int(5)},
                        {'x-dead-letter-exchange': 'd'},
                        {'x-single-active-consumer': False}], local='q2')


def scenario_integer_type_classes(t):
    """Integer widths are equal by value; float or string are not."""
    _redeclares(t, {'x-max-length': long_(5)}, [
        {'x-max-length': signed_int(5)},
        {'x-max-length': short_(5)},
        {'x-max-length': Typed('b', 5)},
        {'x-max-length': Typed('u', 5)},
        {'x-max-length': double_(5.0)},
        {'x-max-length': '5'},
    ])


def scenario_uncompared_args_ignored(t):
    """x-foo, plain keys and other queue types' arguments are ignored on
    redeclare of an existing classic queue."""
    _redeclares(t, {'x-foo': 'a'}, [
        {'x-foo': 'b'},
        {},
        {'bar': long_(1)},
        {'x-delivery-limit': long_(5)},
        {'x-max-age': '1D', 'x-priority': 'high'},
    ])


def scenario_queue_type_classic_implicit(t):
    """An absent x-queue-type equals 'classic'; other types differ."""
    _redeclares(t, {}, [
        {'x-queue-type': 'classic'},
        {'x-queue-type': 'quorum'},
        {'x-queue-type': 'stream'},
    ])
    _redeclares(t, {'x-queue-type': 'classic'}, [{}], local='q2')


def scenario_redeclare_with_invalid_value(t):
    """On an existing queue, an invalid value is an equivalence error
    (compared keys) or ignored (other keys)."""
    _redeclares(t, {'x-max-length': long_(5)}, [
        {'x-max-length': long_(-1)},
        {'x-max-length': long_(5), 'x-expires': long_(0)},
        {'x-max-length': long_(5), 'x-overflow': 'bogus'},
    ])


def scenario_passive_ignores_everything(t):
    """A passive declare ignores flags and arguments."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q, arguments={'x-max-length': long_(5)})
    ch.queue_declare(q, passive=True, durable=True, auto_delete=True,
                     arguments={'x-max-length': long_(6), 'x-bogus': 'y'})
    ch.queue_declare(q, passive=True, exclusive=True)


def scenario_passive_missing_404(t):
    """Passive declare of a missing queue (also amq.*) is a 404."""
    c, ch = conn_ch(t)
    ch.queue_declare(t.name('nope'), passive=True)
    c2, ch2 = conn_ch(t)
    ch2.queue_declare('amq.nope', passive=True)
