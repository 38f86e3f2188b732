#!/usr/bin/python3
"""Replay the differential scenarios against a broker and compare each
client-visible transcript with its golden file (recorded on RabbitMQ).

    # an already running broker
    /usr/bin/python3 tests/differential/replay.py \
        --url amqp://guest:guest@127.0.0.1:5673/%2F
    # start burrowd (--port 0 --in-memory) and test it
    /usr/bin/python3 tests/differential/replay.py \
        --burrowd build/release/bin/burrowd \
        --expect-failures tests/differential/expected_failures.txt

Prints a unified diff (golden -> actual) per failing scenario and a summary.
Exit code 0 only if every scenario passes, except those listed in
--expect-failures (one name per line, '#' comments), which may fail; listed
scenarios that pass are reported as "unexpectedly passing" (an error only
with --strict).
"""

import argparse
import difflib
import json
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from burrow_diff import runner  # noqa: E402

CRASH_MARKERS = ('AddressSanitizer', 'LeakSanitizer', 'runtime error:',
                 'ThreadSanitizer', 'Segmentation fault', 'terminate called')


def load_expected(path):
    names = {}
    if not path:
        return names
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            text, _, comment = line.partition('#')
            text = text.strip()
            if text:
                names[text] = comment.strip()
    return names


def diff(name, golden, actual):
    a = runner.events_text(golden)
    b = runner.events_text(actual)
    return '\n'.join(difflib.unified_diff(
        a, b, 'golden/%s.json' % name, 'actual', n=4, lineterm=''))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    target = ap.add_mutually_exclusive_group()
    target.add_argument('--url', help='AMQP URL of a running broker')
    target.add_argument('--burrowd', metavar='PATH',
                        help='burrowd binary to start (default: $BURROWD)')
    ap.add_argument('-k', action='append', default=[], metavar='PATTERN',
                    help='only scenarios whose name contains PATTERN '
                         '(or matches a glob); repeatable')
    ap.add_argument('-j', '--jobs', type=int, default=4,
                    help='scenarios run in parallel (default 4)')
    ap.add_argument('--expect-failures', metavar='FILE',
                    help='scenarios known to fail on this target')
    ap.add_argument('--strict', action='store_true',
                    help='unexpectedly passing scenarios fail the run')
    ap.add_argument('--show-expected', action='store_true',
                    help='also print diffs of expected failures')
    ap.add_argument('--write-actual', metavar='DIR',
                    help='write every actual transcript to DIR')
    ap.add_argument('--list', action='store_true',
                    help='list the selected scenarios with their summaries '
                         'and exit')
    args = ap.parse_args()

    if args.list:
        for sc in runner.select_scenarios(runner.discover(), args.k):
            print('%-55s %s' % (sc.name, sc.doc))
        return

    expected = load_expected(args.expect_failures)
    scenarios = runner.select_scenarios(runner.discover(), args.k)
    if not scenarios:
        sys.exit('no scenario matches %s' % args.k)
    known = {s.name for s in runner.discover()}
    for name in sorted(expected):
        if name not in known:
            print('warning: %s lists unknown scenario %s'
                  % (args.expect_failures, name))

    burrowd = None
    url = args.url
    if not url:
        binary = args.burrowd or os.environ.get('BURROWD')
        if not binary:
            sys.exit('give --url, --burrowd PATH or set $BURROWD')
        burrowd = runner.Burrowd(binary)
        url = burrowd.url
        print('burrowd started: %s' % url)

    goldens = {}
    for sc in scenarios:
        path = runner.golden_path(sc.name)
        if os.path.exists(path):
            with open(path) as f:
                goldens[sc.name] = json.load(f)['events']

    start = time.monotonic()
    outcome = {}

    def judge(sc, res):
        golden = goldens.get(sc.name)
        if golden is None:
            status = 'nogolden'
        elif res['events'] == golden:
            status = 'pass'
        else:
            status = 'fail'
        listed = sc.name in expected
        if status == 'pass':
            label = 'XPASS' if listed else 'ok'
        else:
            label = 'xfail' if listed else 'FAIL'
            if status == 'nogolden':
                label = 'NO GOLDEN'
        outcome[sc.name] = (status, listed, res)
        print('%-60s %5.2fs %s' % (sc.name, res['seconds'], label),
              flush=True)

    runner.run_all(scenarios, url, args.jobs, judge)
    elapsed = time.monotonic() - start

    if args.write_actual:
        os.makedirs(args.write_actual, exist_ok=True)
        for sc in scenarios:
            with open(os.path.join(args.write_actual, sc.name + '.json'),
                      'w') as f:
                f.write(runner.dump_transcript(sc, outcome[sc.name][2]
                                               ['events']))

    passed = failed = xfail = xpass = nogolden = 0
    failures, xpasses = [], []
    for sc in scenarios:
        status, listed, res = outcome[sc.name]
        if status == 'nogolden':
            nogolden += 1
            failures.append(sc.name)
            print('\n=== %s: no golden file (run record.py)' % sc.name)
            continue
        if status == 'pass':
            if listed:
                xpass += 1
                xpasses.append(sc.name)
            else:
                passed += 1
            continue
        if listed:
            xfail += 1
            if not args.show_expected:
                continue
        else:
            failed += 1
            failures.append(sc.name)
        print('\n=== %s%s: %s' % (sc.name, ' (expected failure)'
                                 if listed else '', sc.doc))
        print(diff(sc.name, goldens[sc.name], res['events']))
        if res['error'] and not listed:
            print('--- scenario error:\n%s' % res['error'])

    broker_problem = None
    if burrowd is not None:
        if not burrowd.alive():
            broker_problem = ('burrowd died during the run (exit %s)'
                              % burrowd.proc.returncode)
        else:
            code = burrowd.stop()
            if code != 0:
                broker_problem = 'burrowd exited with %s after SIGTERM' % code
        err = burrowd.stderr_text()
        for marker in CRASH_MARKERS:
            if marker in err:
                broker_problem = (broker_problem or '') + \
                    ' burrowd reported %r' % marker
        if broker_problem:
            print('\n%s; stderr tail:\n%s' % (broker_problem, err[-4000:]))

    print('\n' + '=' * 70)
    if xpasses:
        print('unexpectedly passing (remove from %s):' % args.expect_failures)
        for name in xpasses:
            print('  ' + name)
    if failures:
        print('failed:')
        for name in failures:
            print('  ' + name)
    print('%d scenarios: %d passed, %d failed, %d expected failures, '
          '%d unexpectedly passing%s in %.1f s'
          % (len(scenarios), passed, failed + nogolden, xfail, xpass,
             (', %d without golden' % nogolden) if nogolden else '',
             elapsed))
    bad = failed or nogolden or broker_problem or (args.strict and xpass)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
