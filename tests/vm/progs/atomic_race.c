// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Remote atomics racing local CPU atomics on one 64-bit word.
 *
 *   atomic_race DEV GID_INDEX RUNS REMOTE_OPS LOCAL_THREADS
 *
 * Each run zeroes the word, then LOCAL_THREADS threads add 1 to it with
 * __atomic_fetch_add (in bursts, yielding between them) while two RC QPs
 * of DEV, each connected to a QP of its own on the same device, send
 * REMOTE_OPS atomics at it between them: FETCH_AND_ADD 1, and
 * CMP_AND_SWP from a recent value to that value + 1.  Every successful
 * operation adds exactly 1, so the word must end at the local count plus
 * the FETCH_AND_ADDs plus the CMP_AND_SWPs that found their compare value.
 * FETCH_AND_ADD results must all differ, as each saw a different value.
 *
 * Prints one line per run with the number of lost updates; exits 1 when
 * any run lost (or invented) an update, or an operation failed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define NR_QPS		2
#define DEPTH		4	/* atomics in flight per QP (max_rd_atomic) */
#define BURST		64	/* local increments between yields */

struct pair {
	struct ibv_qp *req;	/* sends the atomics */
	struct ibv_qp *resp;	/* executes them on the word */
	int in_flight;
	unsigned int posted;	/* picks the next slot of its ring */
};

/* One atomic in flight: slots are per QP, reused in posting order. */
struct op {
	int is_cas;
	uint64_t compare;
};

static uint64_t *word;
static int stop;

static void *local_adder(void *arg)
{
	uint64_t *count = arg;
	int i;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < BURST; i++)
			__atomic_fetch_add(word, 1, __ATOMIC_RELAXED);
		*count += BURST;
		sched_yield();
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct ibv_qp_init_attr qpa = {
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
		.cap = { .max_send_wr = DEPTH, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	uint64_t *results, *fa_seen, guess = 0;
	struct op inflight[NR_QPS * DEPTH];
	struct pair pairs[NR_QPS] = { 0 };
	struct ibv_context *ctx;
	struct ibv_mr *word_mr, *res_mr;
	union ibv_gid gid;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	int runs, ops, nthreads, gid_index, run, bad_runs = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: %s DEV GID_INDEX RUNS REMOTE_OPS LOCAL_THREADS\n",
			argv[0]);
		return 2;
	}
	gid_index = atoi(argv[2]);
	runs = atoi(argv[3]);
	ops = atoi(argv[4]);
	nthreads = atoi(argv[5]);

	ctx = open_by_name(argv[1]);
	if (!ctx || ibv_query_gid(ctx, 1, gid_index, &gid)) {
		fprintf(stderr, "cannot open %s or read GID %d\n", argv[1], gid_index);
		return 2;
	}
	pd = ibv_alloc_pd(ctx);
	cq = ibv_create_cq(ctx, NR_QPS * DEPTH, NULL, NULL, 0);
	word = aligned_alloc(4096, 4096);
	results = aligned_alloc(4096, NR_QPS * DEPTH * sizeof(*results));
	fa_seen = calloc(ops, sizeof(*fa_seen));
	if (!pd || !cq || !word || !results || !fa_seen) {
		fprintf(stderr, "setup failed: %s\n", strerror(errno));
		return 2;
	}
	word_mr = ibv_reg_mr(pd, word, 4096, IBV_ACCESS_LOCAL_WRITE |
			     IBV_ACCESS_REMOTE_ATOMIC);
	res_mr = ibv_reg_mr(pd, results, NR_QPS * DEPTH * sizeof(*results),
			    IBV_ACCESS_LOCAL_WRITE);
	if (!word_mr || !res_mr) {
		fprintf(stderr, "ibv_reg_mr: %s\n", strerror(errno));
		return 2;
	}
	qpa.send_cq = cq;
	qpa.recv_cq = cq;
	for (int q = 0; q < NR_QPS; q++) {
		pairs[q].req = ibv_create_qp(pd, &qpa);
		pairs[q].resp = ibv_create_qp(pd, &qpa);
		if (!pairs[q].req || !pairs[q].resp ||
		    rc_qp_connect(pairs[q].req, pairs[q].resp->qp_num, gid_index,
				  &gid, IBV_MTU_1024, 14, 7, 7) ||
		    rc_qp_connect(pairs[q].resp, pairs[q].req->qp_num, gid_index,
				  &gid, IBV_MTU_1024, 14, 7, 7)) {
			fprintf(stderr, "QP setup failed: %s\n", strerror(errno));
			return 2;
		}
	}

	for (run = 1; run <= runs; run++) {
		uint64_t local[16] = { 0 }, local_sum = 0, final, expected;
		int posted = 0, done = 0, n_fa = 0, n_cas = 0, cas_ok = 0;
		int failures_before = failures, dup_fa = 0;
		pthread_t tid[16];
		int t, i;

		*word = 0;
		__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
		for (t = 0; t < nthreads && t < 16; t++)
			pthread_create(&tid[t], NULL, local_adder, &local[t]);

		while (done < ops) {
			struct ibv_wc wc[NR_QPS * DEPTH];
			int n;

			/*
			 * Keep DEPTH atomics in flight on every QP.  An RC QP
			 * completes in posting order, so its ring slot is
			 * free again once its completion has been seen.
			 */
			for (int q = 0; q < NR_QPS; q++) {
				while (posted < ops && pairs[q].in_flight < DEPTH) {
					int slot = q * DEPTH + pairs[q].posted % DEPTH;
					struct ibv_sge sge = {
						.addr = (uintptr_t)&results[slot],
						.length = 8,
						.lkey = res_mr->lkey,
					};
					struct ibv_send_wr wr = {
						.wr_id = slot,
						.sg_list = &sge,
						.num_sge = 1,
						.wr.atomic.remote_addr = (uintptr_t)word,
						.wr.atomic.rkey = word_mr->rkey,
					}, *bad;

					inflight[slot].is_cas = posted % 2;
					inflight[slot].compare = guess;
					if (inflight[slot].is_cas) {
						wr.opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
						wr.wr.atomic.compare_add = guess;
						wr.wr.atomic.swap = guess + 1;
					} else {
						wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
						wr.wr.atomic.compare_add = 1;
					}
					if (ibv_post_send(pairs[q].req, &wr, &bad)) {
						fprintf(stderr, "ibv_post_send: %s\n",
							strerror(errno));
						return 2;
					}
					pairs[q].in_flight++;
					pairs[q].posted++;
					posted++;
				}
			}
			n = ibv_poll_cq(cq, NR_QPS * DEPTH, wc);
			if (n < 0) {
				fprintf(stderr, "ibv_poll_cq failed\n");
				return 2;
			}
			for (i = 0; i < n; i++) {
				int slot = wc[i].wr_id;
				uint64_t old = results[slot];

				pairs[slot / DEPTH].in_flight--;
				done++;
				check(wc[i].status == IBV_WC_SUCCESS,
				      "run %d: an atomic completed with %s", run,
				      ibv_wc_status_str(wc[i].status));
				if (wc[i].status != IBV_WC_SUCCESS)
					continue;
				if (inflight[slot].is_cas) {
					n_cas++;
					cas_ok += old == inflight[slot].compare;
				} else {
					fa_seen[n_fa++] = old;
				}
				/* A value just seen: the next CMP_SWP's guess. */
				guess = old + 1;
			}
		}
		__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
		for (t = 0; t < nthreads && t < 16; t++) {
			pthread_join(tid[t], NULL);
			local_sum += local[t];
		}
		final = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		qsort(fa_seen, n_fa, sizeof(*fa_seen), cmp_u64);
		for (i = 1; i < n_fa; i++)
			dup_fa += fa_seen[i] == fa_seen[i - 1];
		expected = local_sum + n_fa + cas_ok;
		printf("atomic_race: run %d: %d FETCH_ADD, %d CMP_SWP (%d swapped), %llu local adds; final %llu, expected %llu: %lld lost, %d duplicate FETCH_ADD results\n",
		       run, n_fa, n_cas, cas_ok, (unsigned long long)local_sum,
		       (unsigned long long)final, (unsigned long long)expected,
		       (long long)(expected - final), dup_fa);
		if (final != expected || dup_fa || failures != failures_before)
			bad_runs++;
	}
	printf("atomic_race: %d of %d runs lost updates or failed\n", bad_runs, runs);
	return bad_runs ? 1 : 0;
}
