# A user-space program opens sroce0 through libsroce, queries it, allocates
# and frees PDs, checks the QP capabilities and that only implemented
# objects are advertised.
set -eu
. "$SROCE_REPO/tests/vm/lib.sh"

install_prog verbs_basic
/tmp/verbs_basic sroce0
# The same program against rdma_rxe keeps the test honest.
use_rxe || fail "cannot switch to rdma_rxe"
/tmp/verbs_basic rxe0 || fail "verbs_basic fails on rxe0 too"
