#!/usr/bin/env python3
"""report.py: the make-bench table, from the raw samples the bench programs printed.

    report.py --guest build/logs/x86_64-bench.log --host build/bench/host.out \
              --out build/bench/results.md [--series tools/series/bench-results.txt]

Raw lines (tools/vm/suites/bench/src/bench_common.h), in the guest's console log
prefixed with "# " by /init:
    BENCH <case> <variant> <metric> <rep> <value>
    BENCHSKIP <case> <variant> <reason...>
    BENCHINFO <key> <text...>

Each ratio is the ratio of the medians of two variants measured interleaved in the same
run; the range is the smallest and largest ratio of the two variants' samples of the same
repetition. Targets are checked here, against the measured numbers only. A target whose
numbers are missing is "not measured", never met.
Exit status 0 when the table was written (missed targets included); with --strict, 1 when
a case produced no numbers at all.
"""
import argparse
import os
import re
import statistics
import sys
import textwrap
import time

LINE = re.compile(r'^(?:# )*(BENCH|BENCHSKIP|BENCHINFO) (.*)$')


def parse(paths):
    samples, skips, info = {}, {}, []
    for path in paths:
        with open(path, errors='replace') as f:
            for raw in f:
                m = LINE.match(raw.rstrip('\n'))
                if not m:
                    continue
                kind, rest = m.groups()
                if kind == 'BENCH':
                    p = rest.split()
                    if len(p) != 5:
                        continue
                    case, var, metric, rep, val = p
                    samples.setdefault((case, var, metric), []).append((int(rep), float(val)))
                elif kind == 'BENCHSKIP':
                    p = rest.split(None, 2)
                    if len(p) == 3:
                        skips.setdefault((p[0], p[1]), p[2])
                else:
                    info.append(rest)
    return samples, skips, info


class Data:
    def __init__(self, samples, skips):
        self.s, self.skips = samples, skips

    def vals(self, case, var, metric):
        return [v for _, v in self.s.get((case, var, metric), [])]

    def med(self, case, var, metric):
        v = self.vals(case, var, metric)
        return statistics.median(v) if v else None

    def one(self, case, var, metric):
        v = self.vals(case, var, metric)
        return v[-1] if v else None

    def why(self, case, var):
        return self.skips.get((case, var)) or self.skips.get((case, 'all')) or \
            'not measured: no numbers (the program did not get that far)'

    def ratio(self, case, a, b, metric='ns'):
        """median(a)/median(b), with the range of per-repetition ratios."""
        A, B = self.s.get((case, a, metric)), self.s.get((case, b, metric))
        if not A or not B:
            return None, None, self.why(case, a if not A else b)
        r = statistics.median(v for _, v in A) / statistics.median(v for _, v in B)
        bm = dict(B)
        per = [v / bm[k] for k, v in A if k in bm and bm[k] > 0]
        return r, (min(per), max(per)) if per else None, None


def fmt(x, d=2):
    if x is None:
        return '-'
    if abs(x) >= 100:
        return f'{x:.0f}'
    return f'{x:.{d}f}'


def build_rows(d):
    rows = []  # (case, what, value, range, target, verdict)

    def ratio_row(case, what, a, b, target=None, op=None, metric='ns', invert=False):
        r, rng, why = d.ratio(case, a, b, metric)
        if r is None:
            rows.append((case, what, why, '', target or 'reported', 'not measured' if target else '-'))
            return None
        if invert:
            r = 1 / r
            rng = (1 / rng[1], 1 / rng[0]) if rng else None
        verdict = '-'
        if target:
            lim = float(re.search(r'[0-9.]+', target).group())
            ok = r <= lim if op == '<=' else r >= lim
            verdict = 'met' if ok else 'MISSED'
        rows.append((case, what, f'{fmt(r)}x', f'{fmt(rng[0])}..{fmt(rng[1])}' if rng else '', target or '-', verdict))
        return r

    # B1
    ratio_row('B1', '64 getppid: chain / direct calls', 'chain64', 'direct64', '<= 0.6x', '<=')
    ratio_row('B1', '64 getppid chain / 64 io_uring NOPs (one submit)', 'chain64', 'io_uring64_nop')
    ratio_row('B1', '64 io_uring NOPs / 64 direct getppid', 'io_uring64_nop', 'direct64')
    # B2
    ratio_row('B2', '64 cached preads: chain / io_uring (one submit)', 'chain64', 'io_uring64', '<= 1.0x', '<=')
    ratio_row('B2', '64 cached preads: shim aio / glibc aio', 'shim_aio64', 'glibc_aio64', '<= 0.2x', '<=')
    ratio_row('B2', '64 cached preads: shim aio, inline submit / glibc aio', 'shim_aio64_inline', 'glibc_aio64')
    ratio_row('B2', '64 cached preads: chain / 64 direct preads', 'chain64', 'direct64')
    ratio_row('B2', 'bound: 64 direct preads (no AIO at all) / glibc aio', 'direct64', 'glibc_aio64')
    ratio_row('B2', '64 cached preads: io_uring / 64 direct preads', 'io_uring64', 'direct64')
    ratio_row('B2', '64 cached preads: glibc aio / 64 direct preads', 'glibc_aio64', 'direct64')
    ratio_row('B2', '64 cached preads: shim aio / 64 direct preads', 'shim_aio64', 'direct64')
    # B3
    ratio_row('B3', 'one getppid atom / direct getppid', 'chain1_getppid', 'direct_getppid', '<= 1.2x', '<=')
    ratio_row('B3', 'one cached 4 KiB pread atom / direct pread', 'chain1_pread4k', 'direct_pread4k', '<= 1.2x', '<=')
    ratio_row('B3', 'one getppid atom, ASYNC_EXEC_SYNC / direct getppid', 'chain1_getppid_sync', 'direct_getppid')
    # B4: wall time as a multiple of the 10 ms each operation blocks
    for var, target in (('async_exec', '<= 3.0x'), ('io_uring', None), ('glibc_aio', None), ('thread_per_op', None)):
        w2 = d.vals('B4', var, 'wall_ms_r2')
        if not w2:
            rows.append(('B4', f'{var}: wall of 256 10-ms ops / 10 ms', d.why('B4', var),
                         '', target or '-', 'not measured' if target else '-'))
            rows.append(('B4', f'{var}: tasks created in round 2', d.why('B4', var), '',
                         '0' if target else '-', 'not measured' if target else '-'))
            continue
        m = statistics.median(w2) / 10.0
        verdict = ('met' if m <= 3.0 else 'MISSED') if target else '-'
        w1 = d.med('B4', var, 'wall_ms_r1')
        s2 = d.med('B4', var, 'submit_ms_r2')
        rows.append(('B4', f'{var}: wall of 256 10-ms ops / 10 ms (round 2; round 1 {fmt(w1 / 10.0 if w1 else None)}x; '
                     f'submitting took {fmt(s2)} ms)',
                     f'{fmt(m)}x', f'{fmt(min(w2) / 10)}..{fmt(max(w2) / 10)}', target or '-', verdict))
        t2 = d.vals('B4', var, 'tasks_created_r2')
        t1 = d.vals('B4', var, 'tasks_created_r1')
        verdict = ('met' if max(t2) == 0 else 'MISSED') if target else '-'
        ga = d.vals('B4', var, 'went_async_r2')
        if ga:
            rows.append(('B4', f'{var}: chains that went async in round 2 (min of 256)', fmt(min(ga), 0),
                         f'{fmt(min(ga), 0)}..{fmt(max(ga), 0)}', '-', '-'))
        rows.append(('B4', f'{var}: tasks created in round 2 (max; round 1 {fmt(max(t1) if t1 else None, 0)})',
                     fmt(max(t2), 0), f'{fmt(min(t2), 0)}..{fmt(max(t2), 0)}', '0' if target else '-', verdict))
    # B5
    ratio_row('B5', 'vas_switch round trip / pipe ping-pong (processes)', 'vas_switch_roundtrip',
              'pipe_pingpong_processes', '<= 0.3x', '<=')
    ratio_row('B5', 'futex ping-pong (threads) / pipe ping-pong (processes)',
              'futex_pingpong_threads', 'pipe_pingpong_processes')
    ratio_row('B5', 'getppid / pipe ping-pong (processes)', 'getppid', 'pipe_pingpong_processes')
    ratio_row('B5', 'vas_switch round trip / pipe ping-pong (processes), both on CPU 0', 'vas_switch_roundtrip',
              'pipe_pingpong_processes_cpu0', '<= 0.3x', '<=')
    ratio_row('B5', 'futex ping-pong (threads) / pipe ping-pong (processes), both on CPU 0',
              'futex_pingpong_threads_cpu0', 'pipe_pingpong_processes_cpu0')
    ratio_row('B5', 'getppid / pipe ping-pong (processes), both on CPU 0', 'getppid', 'pipe_pingpong_processes_cpu0')
    ratio_row('B5', 'vas_switch round trip / futex ping-pong (threads)', 'vas_switch_roundtrip', 'futex_pingpong_threads')
    ratio_row('B5', 'vas_switch round trip / futex ping-pong (threads), both on CPU 0', 'vas_switch_roundtrip',
              'futex_pingpong_threads_cpu0')
    ratio_row('B5', 'vas_switch round trip / getppid', 'vas_switch_roundtrip', 'getppid')
    # B6: speed = glibc time / shim time
    ratio_row('B6', 'host: shim speed / glibc aio, 1,000 reads, 100 fds',
              'shim_100fd', 'glibc_100fd', '>= 1.0x', '>=', invert=True)
    ratio_row('B6', 'host: shim speed / glibc aio, 1,000 reads, 1 fd',
              'shim_1fd', 'glibc_1fd', '>= 3.0x', '>=', invert=True)
    ratio_row('B6', 'diagnostic: same, shim with ASYNCAIO_THREADS=2, 100 fds',
              'shim_100fd_2workers', 'glibc_100fd_2workers', invert=True)
    ratio_row('B6', 'diagnostic: same, shim with ASYNCAIO_THREADS=2, 1 fd',
              'shim_1fd_2workers', 'glibc_1fd_2workers', invert=True)
    # B1/B3 decomposition (from different cases of the same run)
    c1, dg, c64 = d.med('B3', 'chain1_getppid', 'ns'), d.med('B3', 'direct_getppid', 'ns'), d.med('B1', 'chain64', 'ns')
    if None not in (c1, dg, c64):
        rows.append(('B3', 'derived: fixed cost of one async_exec (ns; one-atom chain - direct getppid)', fmt(c1 - dg, 0), '', '-', '-'))
        rows.append(('B1', 'derived: cost per getppid atom (ns; (chain of 64 - chain of 1) / 63) vs direct getppid',
                     f'{fmt((c64 - c1) / 63, 0)} vs {fmt(dg, 0)}', '', '-', '-'))
    # B7
    pend = d.one('B7', 'chains', 'pending')
    if pend is None:
        rows.append(('B7', 'kernel memory per pending chain', d.why('B7', 'chains'), '', 'reported', 'not measured'))
    else:
        req = d.one('B7', 'chains', 'requested')
        rows.append(('B7', f'chains pending at once (asked for {fmt(req, 0)}, '
                     f'{fmt(d.one("B7", "chains", "processes"), 0)} processes)', fmt(pend, 0), '', 'reported', '-'))
        pool = d.one('B7', 'chains', 'pool_threads_idle')

        def delta(var, phase, key):
            a, b = d.one('B7', var, f'{phase}_{key}'), d.one('B7', var, f'before_{key}')
            return None if a is None or b is None else a - b
        for key, name in (('slab_kb', 'Slab'), ('sunreclaim_kb', 'SUnreclaim'), ('kernelstack_kb', 'KernelStack')):
            dp = delta('chains', 'pending', key)
            di = delta('chains', 'idle', key)
            rows.append(('B7', f'{name} bytes per pending chain', fmt(dp * 1024 / pend if dp is not None else None, 0), '', 'reported', '-'))
            if pool:
                rows.append(('B7', f'{name} bytes per pooled idle thread ({fmt(pool, 0)} pool threads)',
                             fmt(di * 1024 / pool if di is not None else None, 0), '', 'reported', '-'))
        tp = d.one('B7', 'threads', 'pending')
        if tp:
            for key, name in (('slab_kb', 'Slab'), ('kernelstack_kb', 'KernelStack')):
                dt = delta('threads', 'pending', key)
                rows.append(('B7', f'reference: {name} bytes per plain pthread blocked in read',
                             fmt(dt * 1024 / tp if dt is not None else None, 0), '', 'reported', '-'))
        if d.one('B7', 'chains', 'pending_slabinfo_bytes') is not None:
            dsi = delta('chains', 'pending', 'slabinfo_bytes')
            rows.append(('B7', '/proc/slabinfo active bytes per pending chain', fmt(dsi / pend, 0), '', 'reported', '-'))
        # after teardown: Slab + KernelStack back to where they were (slack: 512 kB or 1% of the growth)
        grow = sum(delta('chains', 'pending', k) or 0 for k in ('slab_kb', 'kernelstack_kb'))
        left = sum(delta('chains', 'after', k) or 0 for k in ('slab_kb', 'kernelstack_kb'))
        slack = max(512, grow * 0.01)
        rows.append(('B7', f'Slab+KernelStack kB after teardown - before (grew by {fmt(grow, 0)} kB while pending)',
                     fmt(left, 0), '', f'<= {fmt(slack, 0)} kB', 'met' if left <= slack else 'MISSED'))
    return sorted(rows, key=lambda r: r[0])  # stable: by case, in the order above


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--guest', help='console log of the VM run')
    ap.add_argument('--host', help='output of bench_host')
    ap.add_argument('--out', required=True)
    ap.add_argument('--series', help='also write the short plain-text table here')
    ap.add_argument('--where', default='', help='where the numbers were measured')
    ap.add_argument('--strict', action='store_true', help='exit 1 if a case produced no numbers at all')
    a = ap.parse_args()
    paths = [p for p in (a.guest, a.host) if p]
    samples, skips, info = parse(paths)
    d = Data(samples, skips)
    rows = build_rows(d)
    # when the run ended (the logs' time), so that a report made again later says the same
    when = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(max(os.path.getmtime(p) for p in paths)))
    met = sum(r[5] == 'met' for r in rows)
    missed = [r for r in rows if r[5] == 'MISSED']
    notm = sum(r[5] == 'not measured' for r in rows)

    out = []
    out.append('# make bench results\n')
    out.append(f'Measured {when}{(" on " + a.where) if a.where else ""}. '
               'QEMU runs under TCG (no KVM): absolute times mean little; the result is the '
               'ratios of variants measured side by side, interleaved in rotating order and '
               'repeated in one run. Ratio = median / median; range = smallest..largest ratio of '
               'samples from the same repetition. B6 runs on the host, the rest in the guest.\n')
    out.append(f'Targets: {met} met, {len(missed)} missed, {notm} not measured.\n')
    out.append('| case | what | ratio / value | range | target | verdict |')
    out.append('|---|---|---|---|---|---|')
    for r in rows:
        out.append('| ' + ' | '.join(x.replace('|', '/') for x in r) + ' |')
    if missed:
        out.append('\n## Missed targets\n')
        for r in missed:
            out.append(f'- {r[0]}: {r[1]}: {r[2]} (target {r[4]}). See the analysis in tools/bench/README.md.')
    out.append('\n## Context\n')
    for i in info:
        out.append(f'- {i}')
    out.append('\n## Raw numbers (median, min, max, n)\n')
    out.append('| case | variant | metric | median | min | max | n |')
    out.append('|---|---|---|---|---|---|---|')
    for (case, var, metric), v in sorted(samples.items()):
        vals = [x for _, x in v]
        out.append(f'| {case} | {var} | {metric} | {fmt(statistics.median(vals), 1)} | '
                   f'{fmt(min(vals), 1)} | {fmt(max(vals), 1)} | {len(vals)} |')
    if skips:
        out.append('\n## Not measured\n')
        for (case, var), why in sorted(skips.items()):
            out.append(f'- {case} {var}: {why}')
    out.append('\n## Samples\n')
    out.append('```')
    for (case, var, metric), v in sorted(samples.items()):
        out.append(f'{case} {var} {metric}: ' + ' '.join(f'{x:g}' for _, x in sorted(v)))
    out.append('```')
    with open(a.out, 'w') as f:
        f.write('\n'.join(out) + '\n')

    lines = []
    # The short table: rows with a target and B7's numbers, labels without their
    # parentheses, reasons for "not measured" below it.
    short = [r for r in rows if r[4] != '-' or r[0] == 'B7']
    label = [re.sub(r'\s*\([^)]*\)', '', r[1]) for r in short]
    w = max(len(x) for x in label)
    reasons = {}
    for r, lab in zip(short, label):
        if r[2].startswith('not measured'):
            reasons.setdefault(r[2], []).append(r[0])
            lines.append(f'{r[0]:<3} {lab:<{w}} {"-":>7} {r[4]:>9}  not measured')
        else:
            lines.append(f'{r[0]:<3} {lab:<{w}} {r[2]:>7} {r[4]:>9}  {r[5] if r[5] != "-" else ""}'.rstrip())
    for why, cases in reasons.items():
        lines.append(f'({", ".join(sorted(set(cases)))}: {why})')
    table = '\n'.join(lines)
    if a.series:
        with open(a.series, 'w') as f:
            head = (f'Benchmarks (make bench), measured {when}{(" on " + a.where) if a.where else ""}. '
                    'QEMU under TCG: only ratios of variants measured side by side in the same '
                    'run mean anything (median of interleaved repetitions; B6 on the host). '
                    'Analysis of the misses: tools/bench/README.md.')
            f.write(textwrap.fill(head, 78) + '\n\n')
            f.write(table + '\n')
    print(table)
    print(f'make bench: {met} targets met, {len(missed)} missed, {notm} not measured; table in {a.out}')
    if a.strict:
        want = (['B1', 'B2', 'B3', 'B4', 'B5', 'B7'] if a.guest else []) + (['B6'] if a.host else [])
        empty = [c for c in want if not any(k[0] == c for k in samples)]
        if empty:
            print(f'make bench: no numbers at all for {", ".join(empty)}', file=sys.stderr)
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
