#!/usr/bin/python3
"""The table and plot data of a bench/compare.sh run.

Usage: bench/compare_report.py OUT_DIR
Reads OUT_DIR/results.jsonl (one line per run, written by compare.sh), prints a markdown table
(also written to OUT_DIR/table.md) and writes OUT_DIR/throughput.dat, startup.dat and
latency.dat for bench/compare.gp. Exit status 1 when a run was flagged (lost or duplicated
messages, an error, no figure).

Each cell is the median over the rounds. "Burrow ×" is how many times better Burrow did: its
rate over RabbitMQ's for rates, RabbitMQ's time over Burrow's for times; in brackets the
lowest and highest per-round ratio (round r of Burrow against round r of RabbitMQ).
"""
import json
import os
import statistics
import sys

BROKERS = ('burrow', 'rabbitmq')


def fmt_value(v, unit):
    if v is None:
        return '–'
    if unit == 'ms':
        return '%.1f ms' % v if v < 1000 else '%.2f s' % (v / 1000)
    return '{:,.0f}'.format(v).replace(',', ' ') + ' msg/s'


def main():
    out_dir = sys.argv[1]
    runs = []
    with open(os.path.join(out_dir, 'results.jsonl')) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))

    scenarios = []  # in first-seen order
    for r in runs:
        if r['scenario'] not in [s['scenario'] for s in scenarios]:
            scenarios.append(r)

    rows, flags = [], []
    thr, lat, startup = [], [], []
    for s in scenarios:
        mine = [r for r in runs if r['scenario'] == s['scenario']]
        for r in mine:
            if r.get('flag'):
                flags.append('%s, %s, round %d: %s' % (s['label'], r['broker'], r['round'], r['flag']))
        for metric, name, unit in s['metrics']:
            per = {}
            for b in BROKERS:
                per[b] = {r['round']: r['result'].get(metric) for r in mine
                          if r['broker'] == b and not r.get('flag') and
                          r['result'].get(metric) is not None}
            med = {b: statistics.median(per[b].values()) if per[b] else None for b in BROKERS}

            def ratio(bv, rv):
                if not bv or not rv:
                    return None
                return bv / rv if unit != 'ms' else rv / bv

            r_all = ratio(med['burrow'], med['rabbitmq'])
            rounds = sorted(set(per['burrow']) & set(per['rabbitmq']))
            per_round = [ratio(per['burrow'][i], per['rabbitmq'][i]) for i in rounds]
            per_round = [x for x in per_round if x]
            spread = (' (%.1f–%.1f)' % (min(per_round), max(per_round))
                      if len(per_round) > 1 else '')
            label = s['label'] + ('' if name == '' else ', ' + name)
            rows.append('| %s | %s | %s | %s | %d/%d |' % (
                label, fmt_value(med['burrow'], unit), fmt_value(med['rabbitmq'], unit),
                ('**%.1f×**%s' % (r_all, spread)) if r_all else '–',
                len(per['burrow']), len(per['rabbitmq'])))
            short = s['short'] + ('' if name == '' else ' ' + name.split()[0])
            target = startup if unit == 'ms' else thr
            target.append('"%s" %s %s' % (short, med['burrow'] or 0, med['rabbitmq'] or 0))
        # Latency: end-to-end and, where confirms were on, confirm latency (medians of p50/p99).
        for key, kind in (('latency_us', 'e2e'), ('confirm_latency_us', 'confirm')):
            vals = {}
            for b in BROKERS:
                for p in ('p50', 'p99'):
                    xs = [r['result'][key][p] for r in mine if r['broker'] == b and
                          not r.get('flag') and isinstance(r['result'].get(key), dict)]
                    vals[b + p] = statistics.median(xs) if xs else 0
            if any(vals.values()):
                lat.append('"%s %s" %s %s %s %s' % (s['short'], kind, vals['burrowp50'],
                                                    vals['burrowp99'], vals['rabbitmqp50'],
                                                    vals['rabbitmqp99']))

    table = ['| scenario | Burrow (median) | RabbitMQ (median) | Burrow × (per-round range) | rounds B/R |',
             '|---|---|---|---|---|'] + rows
    text = '\n'.join(table) + '\n'
    if flags:
        text += '\nFLAGGED runs (left out of the medians):\n' + ''.join('- %s\n' % f for f in flags)
    print(text, end='')
    with open(os.path.join(out_dir, 'table.md'), 'w') as f:
        f.write(text)
    for name, lines in (('throughput.dat', thr), ('startup.dat', startup), ('latency.dat', lat)):
        with open(os.path.join(out_dir, name), 'w') as f:
            f.write(''.join(l + '\n' for l in lines))
    return 1 if flags else 0


if __name__ == '__main__':
    sys.exit(main())
