# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Per-module counts from the verbose output of rdma-core's own runner.

    python3 tests/run_tests.py --dev DEV -v MODULE... 2> LOG
    python3 pyverbs_counts.py LOG MODULE...

run_tests.py (unittest, verbosity 2) writes one status per test to
stderr: "name (tests.MODULE.Class.name)", an optional docstring line,
then " ... ok", " ... skipped 'why'", " ... FAIL" or " ... ERROR".  A
class skipped as a whole shows as "setUpClass (tests.MODULE.Class) ...
skipped 'why'" and counts as one skip, as unittest counts it.

Prints, for each MODULE, a line

    pyverbs-module MODULE RAN OK SKIPPED FAILURES ERRORS

and then "pyverbs-total RAN STATUS" where RAN is unittest's own "Ran N
tests" (or "none" when the line is missing: the interpreter died) and
STATUS is "consistent" when the statuses counted here add up to it.
"""
import re
import sys

HEADER = re.compile(r'^(\w+) \(tests\.(test_\w+)(?:\.\w+)+\)(.*)$')
WORDS = r'(ok|skipped|FAIL|ERROR|expected failure|unexpected success)\b'
STATUS = re.compile(r' \.\.\. ' + WORDS)
# A status alone on its line: something (a warning, a child process)
# wrote to stderr between the test's " ... " and its status.
ALONE = re.compile(r'^' + WORDS)


def main():
    log, modules = sys.argv[1], sys.argv[2:]
    counts = {m: {'ok': 0, 'skip': 0, 'fail': 0, 'err': 0} for m in modules}
    class_skips = 0
    ran = None
    module = name = None
    with open(log, errors='replace') as f:
        lines = f.read().splitlines()
    unmatched = []
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if m:
            if module is not None:
                unmatched.append(start)
            name, module, line = m.group(1), m.group(2), m.group(3)
            start = i
        r = re.match(r'^Ran (\d+) tests? in ', line)
        if r:
            ran = int(r.group(1))
            continue
        s = STATUS.search(line)
        if not s and module is not None and i > start:
            s = ALONE.match(line)
        if not s or module is None:
            continue
        c = counts.setdefault(module,
                              {'ok': 0, 'skip': 0, 'fail': 0, 'err': 0})
        status = s.group(1)
        if status == 'ok' or status == 'expected failure':
            c['ok'] += 1
        elif status == 'skipped':
            c['skip'] += 1
            if name == 'setUpClass':
                class_skips += 1
        elif status == 'FAIL' or status == 'unexpected success':
            c['fail'] += 1
        else:
            c['err'] += 1
        module = name = None
    if module is not None:
        unmatched.append(start)
    seen = 0
    for m in modules:
        c = counts[m]
        total = c['ok'] + c['skip'] + c['fail'] + c['err']
        seen += total
        print('pyverbs-module %s %d %d %d %d %d' %
              (m, total, c['ok'], c['skip'], c['fail'], c['err']))
    others = sum(sum(c.values()) for m, c in counts.items()
                 if m not in modules)
    if ran is None:
        print('pyverbs-total none incomplete')
    elif ran == seen + others - class_skips:
        print('pyverbs-total %d consistent' % ran)
    else:
        print('pyverbs-total %d inconsistent (%d statuses, %d class skips)' %
              (ran, seen + others, class_skips))
    # Tests whose status was not found, with what followed them.
    for i in unmatched:
        for line in lines[i:i + 4]:
            print('pyverbs-unmatched ' + line)
        print('pyverbs-unmatched --')


if __name__ == '__main__':
    main()
