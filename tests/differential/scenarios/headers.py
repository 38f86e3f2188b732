"""Headers exchange: x-match all/any/all-with-x/any-with-x, void values,
x- keys, value types, invalid x-match."""

from ._util import (conn_ch, attempt, probe, long_, signed_int, short_,
                    byte_, double_, void, bytes_)


def _setup(t, ch, bindings):
    """bindings: {local_queue: arguments}; returns the exchange and the
    queue names in order."""
    x = t.name('hx')
    ch.exchange_declare(x, 'headers')
    queues = []
    for local, args in bindings.items():
        q = t.name(local)
        queues.append(q)
        ch.queue_declare(q)
        ch.queue_bind(q, x, '', arguments=args)
    return x, queues


def _messages(t, ch, x, queues, cases):
    for label, headers in cases:
        probe(t, ch, x, 'rk', queues, body=label, headers=headers)


def scenario_all_default(t):
    """Without x-match, a binding needs every key to match (all)."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {'q': {'a': 'one', 'b': 'two'}})
    _messages(t, ch, x, qs, [
        ('both', {'a': 'one', 'b': 'two'}),
        ('both-plus', {'a': 'one', 'b': 'two', 'c': 'three'}),
        ('only-a', {'a': 'one'}),
        ('wrong-b', {'a': 'one', 'b': 'TWO'}),
        ('none', None),
    ])


def scenario_all_explicit(t):
    """x-match all with integer values of different widths and a string."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {'q': {'x-match': 'all', 'a': 'one',
                                 'n': signed_int(5)}})
    _messages(t, ch, x, qs, [
        ('match', {'a': 'one', 'n': signed_int(5)}),
        ('n-as-long', {'a': 'one', 'n': long_(5)}),
        ('n-as-short', {'a': 'one', 'n': short_(5)}),
        ('n-as-string', {'a': 'one', 'n': '5'}),
        ('n-other', {'a': 'one', 'n': signed_int(6)}),
    ])


def scenario_any(t):
    """x-match any: one matching key is enough."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {'q': {'x-match': 'any', 'a': 'one', 'b': 'two'}})
    _messages(t, ch, x, qs, [
        ('a-only', {'a': 'one'}),
        ('b-only', {'b': 'two'}),
        ('both-wrong', {'a': 'x', 'b': 'y'}),
        ('one-wrong', {'a': 'x', 'b': 'two'}),
        ('unrelated', {'c': 'one'}),
        ('none', None),
    ])


def scenario_all_with_x(t):
    """all-with-x also compares x- keys of the binding."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-all': {'x-match': 'all', 'a': 'one', 'x-tag': 'blue'},
        'q-allx': {'x-match': 'all-with-x', 'a': 'one', 'x-tag': 'blue'},
    })
    _messages(t, ch, x, qs, [
        ('a-only', {'a': 'one'}),
        ('a-and-tag', {'a': 'one', 'x-tag': 'blue'}),
        ('a-wrong-tag', {'a': 'one', 'x-tag': 'red'}),
        ('tag-only', {'x-tag': 'blue'}),
    ])


def scenario_any_with_x(t):
    """any-with-x also matches on x- keys."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-any': {'x-match': 'any', 'a': 'one', 'x-tag': 'blue'},
        'q-anyx': {'x-match': 'any-with-x', 'a': 'one', 'x-tag': 'blue'},
    })
    _messages(t, ch, x, qs, [
        ('a-only', {'a': 'one'}),
        ('tag-only', {'x-tag': 'blue'}),
        ('wrong-both', {'a': 'two', 'x-tag': 'red'}),
    ])


def scenario_only_x_keys(t):
    """Bindings whose only keys are x- keys: all matches everything, any
    matches nothing; the -with-x variants compare them."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-all': {'x-match': 'all', 'x-k': 'v'},
        'q-any': {'x-match': 'any', 'x-k': 'v'},
        'q-allx': {'x-match': 'all-with-x', 'x-k': 'v'},
        'q-anyx': {'x-match': 'any-with-x', 'x-k': 'v'},
    })
    _messages(t, ch, x, qs, [
        ('none', None),
        ('xk', {'x-k': 'v'}),
        ('other', {'z': 'v'}),
    ])


def scenario_empty_binding(t):
    """A binding with no keys at all (all, any, absent x-match)."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-none': {},
        'q-all': {'x-match': 'all'},
        'q-any': {'x-match': 'any'},
    })
    _messages(t, ch, x, qs, [
        ('no-headers', None),
        ('some-headers', {'a': 'b'}),
    ])


def scenario_void_means_present(t):
    """A void binding value matches any value of that key, but not a
    missing key."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-all': {'x-match': 'all', 'a': void()},
        'q-any': {'x-match': 'any', 'a': void(), 'b': 'two'},
    })
    _messages(t, ch, x, qs, [
        ('a-string', {'a': 'anything'}),
        ('a-int', {'a': signed_int(7)}),
        ('a-void', {'a': void()}),
        ('b-only', {'b': 'two'}),
        ('missing', {'c': 'x'}),
    ])


def scenario_void_in_message_vs_value(t):
    """A void header in the message does not match a non-void binding
    value."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {'q': {'a': 'one'}})
    _messages(t, ch, x, qs, [
        ('void', {'a': void()}),
        ('value', {'a': 'one'}),
    ])


def scenario_value_types(t):
    """Integer widths and doubles compare by value (1 == 1.0); strings
    never equal integers; a longstr equals a byte array with the same
    bytes."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-int': {'k': long_(1)},
        'q-bool': {'k': True},
        'q-str': {'k': '1'},
        'q-double': {'k': double_(1.0)},
        'q-bytes': {'k': bytes_(b'1')},
    })
    _messages(t, ch, x, qs, [
        ('long', {'k': long_(1)}),
        ('int', {'k': signed_int(1)}),
        ('byte', {'k': byte_(1)}),
        ('bool', {'k': True}),
        ('string', {'k': '1'}),
        ('double', {'k': double_(1.0)}),
        ('bytes', {'k': bytes_(b'1')}),
    ])


def scenario_nested_values(t):
    """Tables and arrays as binding values compare structurally."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {
        'q-arr': {'k': ['a', long_(1)]},
        'q-tab': {'k': {'n': long_(1)}},
    })
    _messages(t, ch, x, qs, [
        ('same-array', {'k': ['a', long_(1)]}),
        ('array-int-width', {'k': ['a', signed_int(1)]}),
        ('other-order', {'k': [long_(1), 'a']}),
        ('same-table', {'k': {'n': long_(1)}}),
        ('other-table', {'k': {'n': long_(2)}}),
    ])


def scenario_invalid_x_match_406(t):
    """Invalid x-match values on queue.bind and exchange.bind."""
    c, ch = conn_ch(t)
    x = t.name('hx')
    q = t.name('q')
    ch.exchange_declare(x, 'headers')
    ch.queue_declare(q)
    for value in ('foo', 'ALL', '', long_(1), True):
        attempt(t, c, 'queue_bind', q, x, '', arguments={'x-match': value,
                                                          'a': 'b'})
    dst = t.name('dst')
    attempt(t, c, 'exchange_declare', dst, 'fanout')
    attempt(t, c, 'exchange_bind', dst, x, '',
            arguments={'x-match': 'some'})


def scenario_multiple_bindings_one_copy(t):
    """Two matching bindings of one queue deliver one copy."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('hx')
    q = t.name('q')
    ch.exchange_declare(x, 'headers')
    ch.queue_declare(q)
    ch.queue_bind(q, x, '', arguments={'a': 'one'})
    ch.queue_bind(q, x, '', arguments={'x-match': 'any', 'b': 'two'})
    probe(t, ch, x, '', [q], body='both', headers={'a': 'one', 'b': 'two'})
    probe(t, ch, x, '', [q], body='b', headers={'b': 'two'})


def scenario_unbind_needs_same_arguments(t):
    """queue.unbind removes only the binding with identical arguments."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('hx')
    q = t.name('q')
    ch.exchange_declare(x, 'headers')
    ch.queue_declare(q)
    ch.queue_bind(q, x, '', arguments={'a': 'one'})
    ch.queue_unbind(q, x, '', arguments={'a': 'two'})
    probe(t, ch, x, '', [q], body='after-wrong-unbind', headers={'a': 'one'})
    ch.queue_unbind(q, x, '', arguments={'a': 'one'})
    probe(t, ch, x, '', [q], body='after-unbind', headers={'a': 'one'})


def scenario_routing_key_ignored(t):
    """The headers exchange ignores the routing key."""
    c, ch = conn_ch(t, confirm=True)
    x, qs = _setup(t, ch, {'q': {'a': 'one'}})
    for rk in ('', 'anything', 'q'):
        probe(t, ch, x, rk, qs, body=rk or 'empty', headers={'a': 'one'})


def scenario_amq_match_predeclared(t):
    """amq.match and amq.headers are headers exchanges."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    key = t.name('key')
    ch.queue_bind(q, 'amq.match', '', arguments={'k': key})
    ch.queue_bind(q, 'amq.headers', '', arguments={'x-match': 'any',
                                                   'k': key})
    probe(t, ch, 'amq.match', '', [q], body='match', headers={'k': key})
    probe(t, ch, 'amq.headers', '', [q], body='headers', headers={'k': key})
    ch.queue_unbind(q, 'amq.match', '', arguments={'k': key})
    ch.queue_unbind(q, 'amq.headers', '', arguments={'x-match': 'any',
                                                     'k': key})
