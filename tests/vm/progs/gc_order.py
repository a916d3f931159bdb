# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
pyverbs objects finalized by Python's cyclic garbage collector, in whatever
order it picks: a Context, a PD, an MR, a CQ, an extended CQ, an RC and a
UD QP and an AH are tied into reference cycles (through subclasses, which
have a __dict__; pyverbs takes no subclass of its CQs, which are held by
the others) and dropped, and gc.collect() runs every few iterations,
so that the collector's tp_clear cuts the links and the weak references
by which a pyverbs Context closes its children first are already gone: a
Context may be closed (ibv_close_device) before its PD, CQs or QPs are
destroyed.

    python3 gc_order.py <device> <gid index> [<iterations>]

runs the iterations in a child interpreter (GC on, as by default) and
checks that it exited by itself with status 0, not by a signal.  In the
child, an error raised by a pyverbs object's finalizer is counted by its
errno: EBUSY is pyverbs' own doing (the collector may free a PD before
its MR, or a CQ before its QP, and the refused object is then leaked
until the process exits), and so are errors that are not of verbs (such
as a finalizer's AttributeError on a WeakSet the collector has already
cleared); any other errno (EBADF from a closed command file, say) is a
failure.  Prints "ok:" or "FAIL:" lines.
"""
import errno
import gc
import random
import signal
import subprocess
import sys


def child(dev, gid_index, iterations):
    import pyverbs.device as d
    try:
        import pyverbs.enums as e
    except ImportError:
        # rdma-core 65: most constants are members of enum classes
        import types
        import pyverbs.libibverbs_enums as m
        e = types.SimpleNamespace()
        for name, value in vars(m).items():
            if name.startswith('IBV_'):
                setattr(e, name, value)
            for member, v in getattr(value, '__members__', {}).items():
                setattr(e, member, v)
    from pyverbs.addr import AH, AHAttr, GlobalRoute
    from pyverbs.cq import CQ, CQEX, CqInitAttrEx
    from pyverbs.mr import MR
    from pyverbs.pd import PD
    from pyverbs.qp import QP, QPCap, QPInitAttr

    class Ctx(d.Context):
        pass

    class Pd(PD):
        pass

    class Mr(MR):
        pass

    class Qp(QP):
        pass

    class Ah(AH):
        pass

    errors = {}
    bad = set()

    def unraisable(u):
        code = getattr(u.exc_value, 'error_code', -1)
        if isinstance(code, int) and code > 0:
            key = errno.errorcode.get(code, str(code))
            if code != errno.EBUSY:
                bad.add(key)
        else:
            key = '%s: %s' % (type(u.exc_value).__name__, u.exc_value)
        errors[key] = errors.get(key, 0) + 1

    sys.unraisablehook = unraisable
    rnd = random.Random(12345)
    pending = []
    for it in range(iterations):
        ctx = Ctx(name=dev)
        pd = Pd(ctx)
        mr = Mr(pd, 4096, e.IBV_ACCESS_LOCAL_WRITE)
        cq = CQ(ctx, 16, None, None, 0)
        cqx = CQEX(ctx, CqInitAttrEx(cqe=16, wc_flags=e.IBV_WC_STANDARD_FLAGS))
        cap = QPCap(max_send_wr=4, max_recv_wr=4)
        rc = Qp(pd, QPInitAttr(qp_type=e.IBV_QPT_RC, scq=cq, rcq=cq,
                               cap=cap))
        ud = Qp(pd, QPInitAttr(qp_type=e.IBV_QPT_UD, scq=cqx, rcq=cqx,
                               cap=cap))
        gr = GlobalRoute(dgid=ctx.query_gid(1, gid_index),
                         sgid_index=gid_index)
        ah = Ah(pd, attr=AHAttr(port_num=1, is_global=1, gr=gr))
        # Cycles: a shuffled ring, each object holding the whole group
        # too, and now and then a link into an older group.  pyverbs wants
        # its own CQ classes, which have no __dict__: the CQs are in the
        # group, not in the ring.
        objs = [ctx, pd, mr, rc, ud, ah]
        rnd.shuffle(objs)
        for i, o in enumerate(objs):
            o.next = objs[(i + 1) % len(objs)]
            o.group = objs + [cq, cqx]
        if pending and rnd.random() < 0.5:
            rnd.choice(objs).older = rnd.choice(pending)
        pending.append(rnd.choice(objs))
        del ctx, pd, mr, cq, cqx, rc, ud, ah, objs, o
        if rnd.random() < 0.3:
            rnd.shuffle(pending)
            del pending[:rnd.randint(0, len(pending))]
            gc.collect()
    del pending
    for _ in range(3):
        gc.collect()
    print('child: %d iterations, finalizer errors: %s' %
          (iterations, ' '.join('%s=%d' % kv for kv in sorted(errors.items()))
           or 'none'), flush=True)
    if bad:
        print('child: verbs errors other than EBUSY: %s' % ' '.join(sorted(bad)))
    return 1 if bad else 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        sys.exit(child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    dev, gid_index = sys.argv[1], sys.argv[2]
    iterations = sys.argv[3] if len(sys.argv) > 3 else '200'
    p = subprocess.run([sys.executable, __file__, '--child', dev, gid_index,
                        iterations], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    # pyverbs prints a traceback for each finalizer error: the child's
    # summary says what they were, and a failing child's end is shown.
    lines = p.stdout.splitlines()
    if p.returncode:
        print('\n'.join(lines[-20:]))
    else:
        print('\n'.join(l for l in lines if l.startswith('child: ')))
    if p.returncode < 0:
        print('FAIL: the child died of %s' %
              signal.Signals(-p.returncode).name)
        return 1
    if p.returncode:
        print('FAIL: the child exited with status %d' % p.returncode)
        return 1
    print('ok: %s pyverbs groups finalized by the cyclic GC, no crash, '
          'no verbs error but EBUSY' % iterations)
    return 0


if __name__ == '__main__':
    sys.exit(main())
