# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Run rdma-core's pyverbs tests as its tests/run_tests.py does, with
Python's cyclic garbage collector off and no interpreter teardown.

    python3 pyverbs_run.py RDMA_CORE_SRC --dev DEV MODULE...

Why: a test that skips half-way through building its resources (sroce has
no UD QPs, for one) leaves its pyverbs objects as cyclic garbage.  The
collector clears the weak references first, so it may close a Context
before the CQs and PDs that the Context would otherwise have closed, and
libibverbs then destroys a CQ through a freed context: Python crashes, in
whichever later test the collection happens to run.  rdma_rxe offers
everything these tests create, so it rarely meets that path.  With the
collector off, such garbage stays until the process ends, and the kernel
then releases it as it does for any process that exits holding RDMA
objects.  Exits 0 when unittest reports success, 1 otherwise.
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
program = unittest.main(module=tests, exit=False)
sys.stdout.flush()
sys.stderr.flush()
os._exit(0 if program.result.wasSuccessful() else 1)
