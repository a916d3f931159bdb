# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Run rdma-core's pyverbs tests as its tests/run_tests.py does, with
Python's cyclic garbage collector off and no interpreter teardown.

    python3 pyverbs_run.py RDMA_CORE_SRC --dev DEV MODULE...

Each MODULE (test_qp, ...) runs as a suite of its own, one after the
other in this one process, and is followed by a line

    pyverbs-module MODULE RAN SKIPPED FAILURES ERRORS

so that a caller gets every module's counts from a single start of the
interpreter (under TCG, importing pyverbs and every test module takes
seconds, and make test runs 14 modules on 2 devices).  A module that
crashes the interpreter prints no such line, nor do the modules after it.

Why the collector is off: a test that skips half-way through building its
resources leaves its pyverbs objects as cyclic garbage.  The collector
clears the weak references first, so it may close a Context before the
CQs and PDs that the Context would otherwise have closed, and libibverbs
then destroys a CQ through a freed context: Python crashes, in whichever
later test the collection happens to run.  With the collector off, such
garbage stays until the process ends, and the kernel then releases it as
it does for any process that exits holding RDMA objects.

Exits 0 when every module succeeded, 1 otherwise.
"""
import gc
import os
import sys
import unittest
from importlib.machinery import SourceFileLoader

src = sys.argv.pop(1)
sys.path.insert(0, os.path.join(src, 'tests'))
from args_parser import parser  # noqa: E402  (rdma-core's tests/args_parser.py)

gc.disable()
tests = SourceFileLoader('tests',
                         os.path.join(src, 'tests', '__init__.py')).load_module()
parser.parse_args()
modules = [a for a in sys.argv[1:] if not a.startswith('-')]
verbosity = 2 if '--verbose' in sys.argv else 1
ok = True
for name in modules:
    suite = unittest.defaultTestLoader.loadTestsFromName(name, tests)
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    sys.stderr.flush()
    print('pyverbs-module %s %d %d %d %d' %
          (name, result.testsRun, len(result.skipped),
           len(result.failures), len(result.errors)), flush=True)
    ok = ok and result.wasSuccessful()
sys.stdout.flush()
sys.stderr.flush()
os._exit(0 if ok else 1)
