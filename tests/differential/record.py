#!/usr/bin/python3
"""Record golden transcripts against a reference broker (RabbitMQ 3.10.8).

    /usr/bin/python3 tests/differential/record.py \
        --url amqp://guest:guest@127.0.0.1:5673/%2F [-k PATTERN ...] [-j N]

Every selected scenario runs once; its normalised transcript is written to
golden/<scenario>.json. A scenario that raises or times out is reported and
its golden file is left untouched (exit code 1). --check runs every selected
scenario twice and refuses to write anything unless both runs agree.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from burrow_diff import runner  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument('--url', required=True,
                    help='AMQP URL of the reference broker')
    ap.add_argument('-k', action='append', default=[], metavar='PATTERN',
                    help='only scenarios whose name contains PATTERN '
                         '(or matches a glob); repeatable')
    ap.add_argument('-j', '--jobs', type=int, default=4,
                    help='scenarios run in parallel (default 4)')
    ap.add_argument('--check', action='store_true',
                    help='run twice, write only scenarios whose two '
                         'transcripts are identical')
    ap.add_argument('--prune', action='store_true',
                    help='delete golden files of scenarios that no longer '
                         'exist (only without -k)')
    args = ap.parse_args()

    scenarios = runner.select_scenarios(runner.discover(), args.k)
    if not scenarios:
        sys.exit('no scenario matches %s' % args.k)
    os.makedirs(runner.GOLDEN_DIR, exist_ok=True)
    start = time.monotonic()

    def progress(sc, res):
        mark = 'ok' if not res['error'] else 'ERROR'
        print('%-60s %5.2fs %s' % (sc.name, res['seconds'], mark),
              flush=True)

    results = runner.run_all(scenarios, args.url, args.jobs, progress)
    second = None
    if args.check:
        print('-- second run --')
        second = runner.run_all(scenarios, args.url, args.jobs)

    written = errors = unstable = 0
    for sc in scenarios:
        res = results[sc.name]
        if res['error']:
            errors += 1
            print('\nERROR in %s:\n%s' % (sc.name, res['error']))
            continue
        if second is not None and second[sc.name]['events'] != res['events']:
            unstable += 1
            print('\nUNSTABLE %s: two runs differ, not written' % sc.name)
            continue
        text = runner.dump_transcript(sc, res['events'])
        with open(runner.golden_path(sc.name), 'w') as f:
            f.write(text)
        written += 1

    if args.prune and not args.k:
        names = {sc.name for sc in scenarios}
        for fname in sorted(os.listdir(runner.GOLDEN_DIR)):
            if fname.endswith('.json') and fname[:-5] not in names:
                os.remove(os.path.join(runner.GOLDEN_DIR, fname))
                print('pruned %s' % fname)

    print('\nrecorded %d scenario(s), %d error(s), %d unstable, in %.1f s'
          % (written, errors, unstable, time.monotonic() - start))
    sys.exit(1 if errors or unstable else 0)


if __name__ == '__main__':
    main()
