// SPDX-License-Identifier: GPL-2.0
/*
 * sim-sched.c - a deterministic simulator of dm-ioband's scheduler.
 *
 * It links the module's own ioband-sched.c (policies, virtual time, backlog
 * heap) and drives it the way ioband-io.c does (fast path while nothing
 * is held and io_limit is not reached; hold and dispatch smallest start tag
 * first; dispatch on completion below the low-water mark), against a model
 * disk, with synthetic closed-loop groups (each keeps qd I/Os outstanding
 * while active).  Time is simulated nanoseconds: runs are exact and
 * repeatable.  Each test asserts shares, work conservation or latency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ioband-sched.h"
#include "utest.h"

#define NS_PER_MS 1000000ULL
#define MAXG 1100

struct io {
	int g;
	u32 sectors;
	u64 submit_ns;		/* when the group submitted it */
	struct io *next;
};

struct group {
	struct ioband_entity ent;
	u64 vtime;
	u32 weight;
	int qd;			/* outstanding I/Os kept while active */
	u32 sectors;		/* size of each I/O */
	u32 sectors_alt;	/* if set, alternate sizes */
	u64 on_ns, off_ns;	/* active window */
	int outstanding;
	struct io *qhead, *qtail;	/* held in ioband */
	int nr_queued;
	int nissued;
	u64 think_ns;		/* each of qd jobs waits this after a completion */
	u64 rate_ns;		/* if set: open loop, one I/O every rate_ns */
	/*
	 * fio's own --rate_iops (io_u.c rate_ddir(), fio 3.33, inline
	 * submission): the n-th I/O is due n x fio_rate_ns after the start;
	 * behind, it submits up to qd; ahead, it waits for all it has in
	 * flight (io_u_quiesce()), then sleeps what it was ahead by before
	 * that wait.
	 */
	u64 fio_rate_ns;
	u64 fio_next, fio_usec;
	enum { FIO_RUN, FIO_QUIESCE, FIO_SLEEP } fio_state;
	int inflight;		/* dispatched, not completed */
	int pending;		/* resubmissions scheduled (think time) */
	u64 last_done;		/* last completion */
	u64 last_submit;
	struct ioband_habit habit;
	/* measurement */
	u64 win_ios, win_sectors;
	u64 *lat;
	size_t nlat, lat_cap;
};

enum dev_model { DEV_IOPS, DEV_BW };

struct event {
	u64 t;
	struct io *io;		/* completion of io; NULL: a submission */
	int g;			/* ... of this group */
};

struct sim {
	u64 now;
	u64 vnow;
	u64 token;
	u32 limit, throttle;
	enum ioband_policy_id policy;
	struct ioband_wfq wfq;
	int inflight, queued;
	int ngroups;
	bool reserve;		/* think-time slot reservation (the target's) */
	u64 grace_ns;		/* the target's dg->grace_ns */
	u64 held_back;		/* dispatches refused for a reservation */
	bool kick_pending;
	struct group g[MAXG];
	/* device */
	enum dev_model model;
	int hw_qd;		/* IOPS model: slots */
	u64 lat_ns;		/* IOPS model: service time */
	u64 ns_per_sector;	/* BW model */
	u64 bw_free_at;		/* BW model: FIFO server busy until */
	int dev_busy;
	struct io *dev_qhead, *dev_qtail;	/* waiting in the device */
	/* events: completions, a binary heap by time */
	struct event *ev;
	int nev, evcap;
	u64 win_start, win_end;
};

static void ev_push2(struct sim *s, u64 t, struct io *io, int g)
{
	int i;

	if (s->nev == s->evcap) {
		s->evcap = s->evcap ? 2 * s->evcap : 1024;
		s->ev = realloc(s->ev, s->evcap * sizeof(*s->ev));
	}
	i = s->nev++;
	while (i && s->ev[(i - 1) / 2].t > t) {
		s->ev[i] = s->ev[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->ev[i].t = t;
	s->ev[i].io = io;
	s->ev[i].g = g;
}

static void ev_push(struct sim *s, u64 t, struct io *io)
{
	ev_push2(s, t, io, -1);
}

static struct event ev_pop(struct sim *s)
{
	struct event top = s->ev[0], last = s->ev[--s->nev];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;

		if (c >= s->nev)
			break;
		if (c + 1 < s->nev && s->ev[c + 1].t < s->ev[c].t)
			c++;
		if (s->ev[c].t >= last.t)
			break;
		s->ev[i] = s->ev[c];
		i = c;
	}
	if (s->nev)
		s->ev[i] = last;
	return top;
}

/* The model disk. */
static void dev_start(struct sim *s, struct io *io)
{
	if (s->model == DEV_IOPS) {
		if (s->dev_busy < s->hw_qd) {
			s->dev_busy++;
			ev_push(s, s->now + s->lat_ns, io);
			return;
		}
		io->next = NULL;
		if (s->dev_qtail)
			s->dev_qtail->next = io;
		else
			s->dev_qhead = io;
		s->dev_qtail = io;
		return;
	}
	/* BW: one FIFO server. */
	if (s->bw_free_at < s->now)
		s->bw_free_at = s->now;
	s->bw_free_at += io->sectors * s->ns_per_sector;
	ev_push(s, s->bw_free_at, io);
}

static void dev_done(struct sim *s)
{
	struct io *io;

	if (s->model != DEV_IOPS)
		return;
	s->dev_busy--;
	io = s->dev_qhead;
	if (io) {
		s->dev_qhead = io->next;
		if (!s->dev_qhead)
			s->dev_qtail = NULL;
		s->dev_busy++;
		ev_push(s, s->now + s->lat_ns, io);
	}
}

/* ioband_charge() of the target, single-threaded. */
static void charge(struct sim *s, struct group *g, struct io *io)
{
	const struct ioband_policy_ops *ops = ioband_policy_get(s->policy);
	struct ioband_io bio = { .sectors = io->sectors };
	u64 vcost = ioband_vt_cost(ops->io_cost(&bio), g->weight);
	u64 floor = ioband_vt_floor(s->vnow, s->token, g->weight);
	u64 start = ioband_vt_start(g->vtime, floor);

	g->vtime = start + vcost;
	if (ioband_vnow_lags(s->vnow, start, s->token, g->weight))
		s->vnow = start;
}

static void issue(struct sim *s, struct io *io)
{
	s->inflight++;
	s->g[io->g].inflight++;
	ioband_habit_issue(&s->g[io->g].habit, s->g[io->g].inflight);
	dev_start(s, io);
}

static bool g_active(struct sim *s, struct group *g)
{
	return g->nr_queued || g->inflight ||
	       (g->nissued && s->now - g->last_done < s->grace_ns);
}

/*
 * The slots kept free for lagging active groups that hold nothing, as the
 * target computes them (ioband_reserved()).
 */
static u32 reserved(struct sim *s, u64 head)
{
	const struct ioband_policy_ops *ops = ioband_policy_get(s->policy);
	struct ioband_io bio = { .sectors = 8 };
	u64 wsum = 0;
	u32 r = 0;
	int i;

	if (!s->reserve)
		return 0;
	for (i = 0; i < s->ngroups; i++)
		if (g_active(s, &s->g[i]))
			wsum += s->g[i].weight;
	for (i = 0; i < s->ngroups; i++) {
		struct group *g = &s->g[i];
		u64 floor = ioband_vt_floor(s->vnow, s->token, g->weight);

		if (g->nr_queued || !g_active(s, g))
			continue;
		bio.sectors = g->sectors;
		if (!ioband_lagging(g->vtime, floor, head,
				    ioband_vt_cost(ops->io_cost(&bio), g->weight)))
			continue;
		r += ioband_habit_reserve(&g->habit, s->limit, g->weight, wsum,
					  g->inflight, s->grace_ns);
	}
	return r;
}

/* ioband_dispatch() */
static void dispatch(struct sim *s)
{
	struct ioband_entity *e;

	while ((e = ioband_wfq_first(&s->wfq)) && s->inflight < (int)s->limit) {
		struct group *g = (struct group *)e;	/* ent is first */
		struct io *io = g->qhead;
		u32 r = reserved(s, e->vtime);

		if (r && s->inflight + r >= s->limit) {
			/* retried when a grace ends (the target's timer) */
			s->held_back++;
			if (!s->kick_pending) {
				s->kick_pending = true;
				ev_push2(s, s->now + s->grace_ns / 2, NULL, -2);
			}
			break;
		}

		g->qhead = io->next;
		if (!g->qhead)
			g->qtail = NULL;
		g->nr_queued--;
		s->queued--;
		charge(s, g, io);
		ioband_wfq_dispatched(&s->wfq, e, g->vtime, g->nr_queued > 0);
		issue(s, io);
	}
}

/* ioband_map() */
static void submit(struct sim *s, struct group *g)
{
	struct io *io = calloc(1, sizeof(*io));

	io->g = g - s->g;
	io->sectors = g->sectors;
	if (g->sectors_alt && (g->nissued & 1))
		io->sectors = g->sectors_alt;
	g->nissued++;
	io->submit_ns = s->now;
	g->outstanding++;
	if (g->last_done > g->last_submit)
		ioband_habit_submit(&g->habit, s->now - g->last_done);
	g->last_submit = s->now;

	if (!s->queued && s->inflight < (int)s->limit) {
		charge(s, g, io);
		issue(s, io);
		return;
	}
	io->next = NULL;
	if (g->qtail)
		g->qtail->next = io;
	else
		g->qhead = io;
	g->qtail = io;
	if (!g->nr_queued++) {
		g->ent.vtime = g->vtime;
		ioband_wfq_activate(&s->wfq, &g->ent,
				    ioband_vt_floor(s->vnow, s->token, g->weight));
	}
	s->queued++;
	dispatch(s);
}

static bool active(struct group *g, u64 now)
{
	return now >= g->on_ns && now < g->off_ns;
}

static void fio_step(struct sim *s, struct group *g)
{
	while (active(g, s->now)) {
		if (g->fio_state == FIO_SLEEP)
			return;
		if (g->fio_state == FIO_QUIESCE) {
			if (g->outstanding)
				return;
			g->fio_state = FIO_SLEEP;
			g->pending++;
			ev_push2(s, s->now + g->fio_usec, NULL, g - s->g);
			return;
		}
		if (g->outstanding >= g->qd)
			return;
		if (g->fio_next > s->now) {
			g->fio_usec = g->fio_next - s->now;
			g->fio_state = FIO_QUIESCE;
			continue;
		}
		g->fio_next += g->fio_rate_ns;
		submit(s, g);
	}
}

static void fill(struct sim *s, struct group *g)
{
	if (g->rate_ns)
		return;		/* open loop: its own events */
	if (g->fio_rate_ns) {
		fio_step(s, g);
		return;
	}
	while (active(g, s->now) && g->outstanding + g->pending < g->qd) {
		if (g->think_ns && g->nissued >= g->qd) {
			g->pending++;
			ev_push2(s, s->now + g->think_ns, NULL, g - s->g);
			continue;
		}
		submit(s, g);
	}
}

static void record(struct sim *s, struct group *g, struct io *io)
{
	if (s->now < s->win_start || s->now >= s->win_end)
		return;
	g->win_ios++;
	g->win_sectors += io->sectors;
	if (g->nlat == g->lat_cap) {
		g->lat_cap = g->lat_cap ? 2 * g->lat_cap : 4096;
		g->lat = realloc(g->lat, g->lat_cap * sizeof(*g->lat));
	}
	g->lat[g->nlat++] = s->now - io->submit_ns;
}

static void sim_init(struct sim *s, enum ioband_policy_id policy, u32 limit,
		     u32 throttle)
{
	u32 cap = MAXG;

	memset(s, 0, sizeof(*s));
	s->policy = policy;
	s->limit = limit;
	s->throttle = throttle;
	s->token = ioband_policy_get(policy)->default_token(limit);
	ioband_wfq_init(&s->wfq);
	free(ioband_wfq_set_heap(&s->wfq, calloc(cap, sizeof(void *)), cap));
	s->model = DEV_IOPS;
	s->hw_qd = 32;
	s->lat_ns = NS_PER_MS;
	s->reserve = !getenv("SIM_NO_RESERVE");
	s->grace_ns = IOBAND_GRACE_NS;
}

static struct group *add_group(struct sim *s, u32 weight, int qd, u32 sectors)
{
	struct group *g = &s->g[s->ngroups++];

	g->weight = weight;
	g->qd = qd;
	g->sectors = sectors;
	g->on_ns = 0;
	g->off_ns = ~0ULL;
	g->vtime = s->vnow;
	g->ent.heap_idx = IOBAND_NOT_QUEUED;
	return g;
}

/* Run until @until, measuring completions in [win_start, win_end). */
static void run(struct sim *s, u64 until, u64 win_start, u64 win_end)
{
	int lowat = s->limit - (s->throttle < s->limit / 2 ? s->throttle :
				(s->limit / 2 ? s->limit / 2 : 1));
	int i;

	s->win_start = win_start;
	s->win_end = win_end;
	for (i = 0; i < s->ngroups; i++) {
		free(s->g[i].lat);
		s->g[i].lat = NULL;
		s->g[i].nlat = s->g[i].lat_cap = 0;
		s->g[i].win_ios = s->g[i].win_sectors = 0;
		if (s->g[i].rate_ns && !s->g[i].pending) {
			s->g[i].pending++;
			ev_push2(s, s->now, NULL, i);
		}
		fill(s, &s->g[i]);
	}
	while (s->nev) {
		struct event e = s->ev[0];
		struct group *g;

		if (e.t >= until)
			break;
		e = ev_pop(s);
		s->now = e.t;
		if (!e.io && e.g == -2) {
			s->kick_pending = false;
			dispatch(s);
			continue;
		}
		if (!e.io) {
			g = &s->g[e.g];
			g->pending--;
			if (g->fio_rate_ns) {
				g->fio_state = FIO_RUN;
				fio_step(s, g);
				continue;
			}
			if (g->rate_ns) {
				g->pending++;
				ev_push2(s, s->now + g->rate_ns, NULL, e.g);
				if (!active(g, s->now) || g->outstanding >= g->qd)
					continue;
			} else if (!active(g, s->now)) {
				continue;
			}
			submit(s, g);
			continue;
		}
		g = &s->g[e.io->g];
		s->inflight--;
		g->inflight--;
		g->last_done = s->now;
		ioband_habit_done(&g->habit, g->inflight);
		dev_done(s);
		if (s->queued && s->inflight <= lowat)
			dispatch(s);
		record(s, g, e.io);
		g->outstanding--;
		free(e.io);
		fill(s, g);
		/* groups whose window opened meanwhile */
		for (i = 0; i < s->ngroups; i++)
			if (!s->g[i].outstanding && active(&s->g[i], s->now))
				fill(s, &s->g[i]);
	}
	s->now = until;
}

static void sim_free(struct sim *s)
{
	int i;

	while (s->nev)
		free(ev_pop(s).io);	/* free(NULL) for submissions */
	for (i = 0; i < s->ngroups; i++) {
		struct io *io = s->g[i].qhead;

		while (io) {
			struct io *n = io->next;

			free(io);
			io = n;
		}
		free(s->g[i].lat);
	}
	free(s->ev);
	free(s->wfq.heap);
}

static double share_ios(struct sim *s, int i)
{
	u64 tot = 0;
	int j;

	for (j = 0; j < s->ngroups; j++)
		tot += s->g[j].win_ios;
	return tot ? (double)s->g[i].win_ios / tot : 0;
}

static double share_sectors(struct sim *s, int i)
{
	u64 tot = 0;
	int j;

	for (j = 0; j < s->ngroups; j++)
		tot += s->g[j].win_sectors;
	return tot ? (double)s->g[i].win_sectors / tot : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 pct(struct group *g, double p)
{
	size_t i;

	if (!g->nlat)
		return 0;
	qsort(g->lat, g->nlat, sizeof(u64), cmp_u64);
	i = (size_t)(p * (g->nlat - 1));
	return g->lat[i];
}

static double rel_err(double got, double want)
{
	double d = got - want;

	return (d < 0 ? -d : d) / want;
}

/* All groups backlogged: each gets weight / sum of weights. */
static void test_proportional(u64 vnow0)
{
	static const u32 w2[] = { 80, 20 }, w4[] = { 1, 2, 4, 8 };
	static const struct { const u32 *w; int n; } cases[] = {
		{ w2, 2 }, { w4, 4 },
	};
	unsigned int c;
	int i;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		static struct sim s;
		u32 sum = 0;

		sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
		s.vnow = vnow0;
		for (i = 0; i < cases[c].n; i++) {
			add_group(&s, cases[c].w[i], 32, 8);
			sum += cases[c].w[i];
		}
		run(&s, 3000 * NS_PER_MS, 500 * NS_PER_MS, 3000 * NS_PER_MS);
		for (i = 0; i < cases[c].n; i++) {
			double want = (double)cases[c].w[i] / sum;
			double got = share_ios(&s, i);

			CHECK(rel_err(got, want) <= 0.02,
			      "vnow0=%llu case %u group %d: share %.4f want %.4f",
			      (unsigned long long)vnow0, c, i, got, want);
		}
		sim_free(&s);
	}
}

/* weight counts I/Os; weight-iosize counts bytes. */
static void test_iosize(void)
{
	static struct sim s;

	/* Equal weights, 4 KiB against 64 KiB on a bandwidth-bound disk. */
	sim_init(&s, IOBAND_POLICY_WEIGHT_IOSIZE, 32, 4);
	s.model = DEV_BW;
	s.ns_per_sector = 2000;
	add_group(&s, 100, 32, 8);
	add_group(&s, 100, 32, 128);
	run(&s, 4000 * NS_PER_MS, 500 * NS_PER_MS, 4000 * NS_PER_MS);
	CHECK(rel_err(share_sectors(&s, 0), 0.5) <= 0.02,
	      "weight-iosize: sector share %.4f", share_sectors(&s, 0));
	sim_free(&s);

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	s.model = DEV_BW;
	s.ns_per_sector = 2000;
	add_group(&s, 100, 32, 8);
	add_group(&s, 100, 32, 128);
	run(&s, 4000 * NS_PER_MS, 500 * NS_PER_MS, 4000 * NS_PER_MS);
	CHECK(rel_err(share_ios(&s, 0), 0.5) <= 0.02,
	      "weight: I/O share %.4f", share_ios(&s, 0));
	sim_free(&s);

	/* Mixed sizes within a group: weight-iosize 3:1 by bytes. */
	sim_init(&s, IOBAND_POLICY_WEIGHT_IOSIZE, 32, 4);
	s.model = DEV_BW;
	s.ns_per_sector = 2000;
	add_group(&s, 300, 32, 8)->sectors_alt = 128;
	add_group(&s, 100, 32, 128);
	run(&s, 4000 * NS_PER_MS, 500 * NS_PER_MS, 4000 * NS_PER_MS);
	CHECK(rel_err(share_sectors(&s, 0), 0.75) <= 0.02,
	      "weight-iosize mixed: sector share %.4f", share_sectors(&s, 0));
	sim_free(&s);
}

/*
 * Work conservation: a group alone gets the whole disk; a group that stops
 * leaves its share at once; when it comes back it gets its share back at
 * once but no more than its token of credit.
 */
static void test_idle(void)
{
	static struct sim s;
	struct group *a, *b;
	u64 solo, both;

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	a = add_group(&s, 100, 32, 8);
	run(&s, 1000 * NS_PER_MS, 200 * NS_PER_MS, 1000 * NS_PER_MS);
	solo = a->win_ios;
	sim_free(&s);

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	a = add_group(&s, 100, 32, 8);
	b = add_group(&s, 100, 32, 8);
	b->off_ns = 1000 * NS_PER_MS;
	run(&s, 1000 * NS_PER_MS, 200 * NS_PER_MS, 1000 * NS_PER_MS);
	both = a->win_ios + b->win_ios;
	CHECK(rel_err(share_ios(&s, 0), 0.5) <= 0.02, "both: %.4f", share_ios(&s, 0));
	CHECK(rel_err((double)both, (double)solo) <= 0.02,
	      "two groups use the disk as fully as one: %llu vs %llu",
	      (unsigned long long)both, (unsigned long long)solo);

	/* b stops at 1 s: within 100 ms a has (nearly) everything. */
	run(&s, 2000 * NS_PER_MS, 1100 * NS_PER_MS, 2000 * NS_PER_MS);
	CHECK(share_ios(&s, 0) >= 0.99, "a alone: %.4f", share_ios(&s, 0));
	CHECK(rel_err((double)a->win_ios, solo * 0.9 / 0.8) <= 0.03,
	      "a alone gets the whole disk: %llu in 0.9 s, solo %llu in 0.8 s",
	      (unsigned long long)a->win_ios, (unsigned long long)solo);

	/* b comes back at 2 s: fair again from the first 100 ms on. */
	b->on_ns = 2000 * NS_PER_MS;
	b->off_ns = ~0ULL;
	run(&s, 2100 * NS_PER_MS, 2000 * NS_PER_MS, 2100 * NS_PER_MS);
	/*
	 * At most 1.5 tokens (IOBAND_TOKEN_DEPTHS x io_limit I/Os; vnow may
	 * lag by half a token) more than half, plus rounding.
	 */
	CHECK(b->win_ios <= (a->win_ios + b->win_ios) / 2 + s.token * 3 / 2 + 8,
	      "b hoarded credit while idle: %llu of %llu",
	      (unsigned long long)b->win_ios,
	      (unsigned long long)(a->win_ios + b->win_ios));
	CHECK(share_ios(&s, 1) >= 0.40, "b back within 100 ms: %.4f",
	      share_ios(&s, 1));
	run(&s, 3000 * NS_PER_MS, 2100 * NS_PER_MS, 3000 * NS_PER_MS);
	CHECK(rel_err(share_ios(&s, 1), 0.5) <= 0.02, "b after return: %.4f",
	      share_ios(&s, 1));
	sim_free(&s);
}

/* A weight change under load moves the shares at once. */
static void test_weight_change(void)
{
	static struct sim s;
	struct group *a, *b;

	sim_init(&s, IOBAND_POLICY_WEIGHT, 8, 4);
	a = add_group(&s, 80, 32, 8);
	b = add_group(&s, 20, 32, 8);
	run(&s, 1000 * NS_PER_MS, 200 * NS_PER_MS, 1000 * NS_PER_MS);
	CHECK(rel_err(share_ios(&s, 0), 0.8) <= 0.02, "80:20 %.4f", share_ios(&s, 0));
	a->weight = 20;
	b->weight = 80;
	run(&s, 2000 * NS_PER_MS, 1050 * NS_PER_MS, 2000 * NS_PER_MS);
	CHECK(rel_err(share_ios(&s, 0), 0.2) <= 0.02, "then 20:80 %.4f", share_ios(&s, 0));
	sim_free(&s);
}

/*
 * A group idle while vnow advanced by more than 2^63 (its vtime wrapped to
 * seem ahead) is clamped to the floor on its return and gets its share
 * at once, instead of starving while the other is backlogged.
 */
static void test_long_idle(void)
{
	static const u64 idle[] = { (1ULL << 63) + 1, (1ULL << 63) + (1ULL << 62),
				    ~0ULL - (1ULL << 62) };
	u64 f = 12345;
	unsigned int i;

	CHECK(ioband_vt_start(f - 100, f) == f, "behind: floor");
	CHECK(ioband_vt_start(f + 100, f) == f + 100, "ahead: kept");
	CHECK(ioband_vt_start(f + (1ULL << 61), f) == f + (1ULL << 61),
	      "a token ahead: kept");
	for (i = 0; i < ARRAY_SIZE(idle); i++) {
		static struct sim s;
		struct group *b;

		CHECK(ioband_vt_start(f - idle[i], f) == f,
		      "idle %llx: clamped", (unsigned long long)idle[i]);
		sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
		s.vnow = 1000 * IOBAND_VT_ONE;
		add_group(&s, 100, 32, 8);
		b = add_group(&s, 100, 32, 8);
		b->vtime = s.vnow - idle[i];
		run(&s, 1000 * NS_PER_MS, 100 * NS_PER_MS, 1000 * NS_PER_MS);
		CHECK(rel_err(share_ios(&s, 1), 0.5) <= 0.02,
		      "idle %llx: returning group's share %.4f",
		      (unsigned long long)idle[i], share_ios(&s, 1));
		sim_free(&s);
	}
}

/* A queue-depth-1 group is not made to wait behind a deep one. */
static void test_shallow(void)
{
	static struct sim s;
	u64 solo99, solo50, p99, p50;
	struct group *a;

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	a = add_group(&s, 100, 1, 8);
	run(&s, 1000 * NS_PER_MS, 100 * NS_PER_MS, 1000 * NS_PER_MS);
	solo50 = pct(a, 0.5);
	solo99 = pct(a, 0.99);
	sim_free(&s);

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	a = add_group(&s, 100, 1, 8);
	add_group(&s, 100, 32, 8);
	run(&s, 2000 * NS_PER_MS, 200 * NS_PER_MS, 2000 * NS_PER_MS);
	p50 = pct(a, 0.5);
	p99 = pct(a, 0.99);
	CHECK(p99 <= 2 * solo99, "QD1 p99 %llu ns vs solo %llu ns",
	      (unsigned long long)p99, (unsigned long long)solo99);
	CHECK(p50 <= 2 * solo50, "QD1 p50 %llu ns vs solo %llu ns",
	      (unsigned long long)p50, (unsigned long long)solo50);
	sim_free(&s);
}

/* Many groups: shares stay exact and the disk stays busy. */
static void test_many(void)
{
	static struct sim s;
	u64 tot2 = 0, totn = 0, lo = ~0ULL, hi = 0;
	int i, n = 1024;

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	add_group(&s, 100, 4, 8);
	add_group(&s, 100, 4, 8);
	run(&s, 1000 * NS_PER_MS, 200 * NS_PER_MS, 1000 * NS_PER_MS);
	tot2 = s.g[0].win_ios + s.g[1].win_ios;
	sim_free(&s);

	sim_init(&s, IOBAND_POLICY_WEIGHT, 32, 4);
	for (i = 0; i < n; i++)
		add_group(&s, 100, 4, 8);
	run(&s, 3000 * NS_PER_MS, 1000 * NS_PER_MS, 3000 * NS_PER_MS);
	for (i = 0; i < n; i++) {
		totn += s.g[i].win_ios;
		if (s.g[i].win_ios < lo)
			lo = s.g[i].win_ios;
		if (s.g[i].win_ios > hi)
			hi = s.g[i].win_ios;
	}
	CHECK(totn / 2 >= tot2 * 9 / 10, "1024 groups: %llu/2 s vs 2 groups %llu/0.8 s",
	      (unsigned long long)totn, (unsigned long long)tot2);
	CHECK(hi - lo <= 2, "1024 equal groups: min %llu max %llu I/Os",
	      (unsigned long long)lo, (unsigned long long)hi);
	sim_free(&s);
}

/* The heap against a brute-force minimum, with random operations. */
static void test_heap(void)
{
	static struct ioband_entity ents[200];
	struct ioband_wfq w;
	unsigned int seed = 1, i, step;

	ioband_wfq_init(&w);
	free(ioband_wfq_set_heap(&w, calloc(8, sizeof(void *)), 8));
	for (i = 0; i < ARRAY_SIZE(ents); i++)
		ents[i].heap_idx = IOBAND_NOT_QUEUED;
	/* Grow while in use: entries must survive the move. */
	ents[0].vtime = 5;
	ioband_wfq_activate(&w, &ents[0], 0);
	free(ioband_wfq_set_heap(&w, calloc(ARRAY_SIZE(ents), sizeof(void *)),
				 ARRAY_SIZE(ents)));
	CHECK(ioband_wfq_first(&w) == &ents[0], "heap survives growth");

	for (step = 0; step < 20000; step++) {
		struct ioband_entity *e = &ents[rand_r(&seed) % ARRAY_SIZE(ents)];
		struct ioband_entity *min = NULL;
		int op = rand_r(&seed) % 3;

		if (op == 0)
			ioband_wfq_activate(&w, e, (u64)-1000 + rand_r(&seed) % 3000);
		else if (op == 1)
			ioband_wfq_remove(&w, e);
		else if (e->heap_idx != IOBAND_NOT_QUEUED)
			ioband_wfq_dispatched(&w, e, e->vtime + rand_r(&seed) % 500,
					      rand_r(&seed) % 4);
		for (i = 0; i < ARRAY_SIZE(ents); i++) {
			if (ents[i].heap_idx == IOBAND_NOT_QUEUED)
				continue;
			CHECK(w.heap[ents[i].heap_idx] == &ents[i], "index");
			if (!min || ioband_vt_before(ents[i].vtime, min->vtime))
				min = &ents[i];
		}
		CHECK((!min && !ioband_wfq_first(&w)) ||
		      (min && ioband_wfq_first(&w) &&
		       ioband_wfq_first(&w)->vtime == min->vtime),
		      "step %u: heap minimum", step);
		if (utest_failed)
			break;
	}
	free(w.heap);
}

/* ioband_wfq_extract(): the entities of one owner out, a valid heap left. */
static struct ioband_entity xents[300];
static unsigned char xowner[ARRAY_SIZE(xents)];

static bool owned_by(struct ioband_entity *e, const void *arg)
{
	return xowner[e - xents] == *(const unsigned char *)arg;
}

static void test_extract(void)
{
	struct ioband_wfq w;
	unsigned int seed = 7, i, round;

	ioband_wfq_init(&w);
	free(ioband_wfq_set_heap(&w, calloc(ARRAY_SIZE(xents), sizeof(void *)),
				 ARRAY_SIZE(xents)));
	for (i = 0; i < ARRAY_SIZE(xents); i++) {
		xents[i].heap_idx = IOBAND_NOT_QUEUED;
		xowner[i] = i % 3;
	}
	for (round = 0; round < 2000; round++) {
		unsigned char who = rand_r(&seed) % 3;
		u32 before, want = 0, n, bad = 0;

		for (i = 0; i < ARRAY_SIZE(xents); i++) {
			if (xents[i].heap_idx == IOBAND_NOT_QUEUED && rand_r(&seed) % 2) {
				xents[i].vtime = rand_r(&seed) % 5000;
				ioband_wfq_activate(&w, &xents[i], 0);
			}
		}
		before = w.nr;
		for (i = 0; i < ARRAY_SIZE(xents); i++)
			want += xents[i].heap_idx != IOBAND_NOT_QUEUED && xowner[i] == who;
		n = ioband_wfq_extract(&w, owned_by, &who);
		CHECK(n == want && w.nr == before - n, "round %u: took %u of %u",
		      round, n, want);
		for (i = 0; i < n; i++) {
			struct ioband_entity *e = w.heap[w.nr + i];

			bad += !owned_by(e, &who) || e->heap_idx != IOBAND_NOT_QUEUED;
		}
		for (i = 0; i < w.nr; i++) {
			bad += w.heap[i]->heap_idx != i || owned_by(w.heap[i], &who);
			bad += i && ioband_vt_before(w.heap[i]->vtime,
						     w.heap[(i - 1) / 2]->vtime);
		}
		CHECK(!bad, "round %u: %u bad entries", round, bad);
		/* Some dispatches, so that the heap moves between rounds. */
		for (i = 0; i < 20 && ioband_wfq_first(&w); i++) {
			struct ioband_entity *e = ioband_wfq_first(&w);

			ioband_wfq_dispatched(&w, e, e->vtime + rand_r(&seed) % 50,
					      rand_r(&seed) % 2);
		}
		if (utest_failed)
			break;
	}
	free(w.heap);
}

static void test_policies(void)
{
	struct ioband_io io = { .sectors = 128 };

	CHECK(ioband_policy_get(IOBAND_POLICY_WEIGHT)->io_cost(&io) == 1, "weight");
	CHECK(ioband_policy_get(IOBAND_POLICY_WEIGHT_IOSIZE)->io_cost(&io) == 128,
	      "weight-iosize");
	io.discard = true;
	CHECK(ioband_policy_get(IOBAND_POLICY_WEIGHT_IOSIZE)->io_cost(&io) == 8,
	      "discard costs a page");
	CHECK(ioband_policy_get(IOBAND_POLICY_NR) == NULL, "registry bound");
	CHECK(!strcmp(ioband_policy_get(IOBAND_POLICY_WEIGHT_IOSIZE)->name,
		      ioband_policy_name(IOBAND_POLICY_WEIGHT_IOSIZE)), "names agree");
	CHECK(ioband_vt_before(~0ULL - 5, 3), "wrap-safe comparison");
	CHECK(ioband_vt_cost(1, 1) == IOBAND_VT_ONE, "vt unit");
}

/*
 * Groups with think time beside a deep group, on an IOPS-bound disk whose
 * depth is io_limit (8 slots, 2 ms): each gets its weighted share, or all
 * it asks for when that is less; when it stops, the deep group has the
 * whole disk again within 100 ms.
 */
enum kind { K_QD1JOBS, K_QD1SLOW, K_SYNC, K_RATE, K_RATESLOW, K_RATE4,
	    K_FIORATE4, K_QD1TCG };

static struct group *add_kind(struct sim *s, enum kind k, u32 weight)
{
	struct group *g;

	switch (k) {
	case K_QD1JOBS:		/* fio numjobs=8 iodepth=1: 20 us to resubmit */
		g = add_group(s, weight, 8, 8);
		g->think_ns = 20000;
		return g;
	case K_QD1SLOW:		/* 8 QD1 jobs on a slow CPU: 200 us */
		g = add_group(s, weight, 8, 8);
		g->think_ns = 200000;
		return g;
	case K_QD1TCG:		/* 8 QD1 jobs under TCG: 500 us */
		g = add_group(s, weight, 8, 8);
		g->think_ns = 500000;
		return g;
	case K_SYNC:		/* one writer, write + fsync: 300 us between */
		g = add_group(s, weight, 1, 8);
		g->think_ns = 300000;
		return g;
	case K_RATE:		/* fio --rate_iops=200 */
		g = add_group(s, weight, 16, 8);
		g->rate_ns = 5 * NS_PER_MS;
		return g;
	case K_RATE4:		/* its own clock, 200/s, at most 4 in flight */
		g = add_group(s, weight, 4, 8);
		g->rate_ns = 5 * NS_PER_MS;
		return g;
	case K_FIORATE4:	/* fio --rate_iops=200 --iodepth=4 (bench "asks") */
		g = add_group(s, weight, 4, 8);
		g->fio_rate_ns = 5 * NS_PER_MS;
		g->fio_next = s->now;
		return g;
	case K_RATESLOW:	/* fio --rate_iops=50 */
		g = add_group(s, weight, 16, 8);
		g->rate_ns = 20 * NS_PER_MS;
		return g;
	}
	return NULL;
}

static void sim_disk8(struct sim *s, u64 lat_ns)
{
	sim_init(s, IOBAND_POLICY_WEIGHT, 8, 4);
	s->hw_qd = 8;
	s->lat_ns = lat_ns;
	/* as the target sets it from the automatic depth's baseline */
	s->grace_ns = lat_ns / 2 < IOBAND_GRACE_NS ? IOBAND_GRACE_NS :
		lat_ns / 2 > IOBAND_GRACE_MAX_NS ? IOBAND_GRACE_MAX_NS : lat_ns / 2;
}

static void test_think(void)
{
	/*
	 * @total: the least total, of the deep group's solo rate.  A slot
	 * kept for a group that thinks 200 us between I/Os of 2 ms is idle
	 * 9% of the time: with 80% of the slots kept so, the disk loses 5%.
	 */
	static const struct {
		enum kind k; u32 w, wdeep; double total; u64 lat; const char *name;
	} cases[] = {
		{ K_QD1JOBS, 200, 800, 0.98, 2, "8 QD1 jobs 200:800" },
		{ K_QD1JOBS, 800, 200, 0.98, 2, "8 QD1 jobs 800:200" },
		{ K_QD1JOBS, 500, 500, 0.98, 2, "8 QD1 jobs 500:500" },
		{ K_QD1SLOW, 200, 800, 0.98, 2, "8 QD1 200us 200:800" },
		{ K_QD1SLOW, 800, 200, 0.94, 2, "8 QD1 200us 800:200" },
		{ K_SYNC, 100, 800, 0.98, 2, "sync writer 100:800" },
		{ K_RATE, 500, 500, 0.98, 2, "rate 200/s 500:500" },
		{ K_RATE, 20, 800, 0.98, 2, "rate 200/s 20:800" },
		/* sched/008's disk: 10 ms, grace 5 ms */
		{ K_QD1JOBS, 800, 200, 0.98, 10, "10ms: 8 QD1 800:200" },
		{ K_RATESLOW, 500, 500, 0.95, 10, "10ms: rate 50/s 500:500" },
		/*
		 * bench "asks"'s groups: a sync writer; fio --rate_iops=200
		 * --iodepth=4, which thinks 0 and 5 ms in turn (half the grace
		 * on average) and sends bursts of 3-4: keeping its burst's
		 * slots free cost the disk 722/s of 800, keeping only what
		 * idles for at most half a grace in all (one slot) 780/s, all
		 * it asks both times; and a group on its own clock, 200 I/Os a
		 * second at QD4 (an application's, not fio's), whose next bio
		 * comes as one of its own completes: it thinks 0, so it keeps
		 * its peak in flight for bios that come 5 ms apart, 700/s of
		 * 800 (issue 10 wants 0.95; a known miss, docs/scheduling.md
		 * "Think time"; keeping its mean in flight instead gave 800/s
		 * here but cost eight QD1 jobs in the guest their share, 14.5%
		 * off): the floor guards it.
		 */
		{ K_SYNC, 500, 500, 0.98, 10, "10ms: sync writer" },
		{ K_FIORATE4, 500, 500, 0.95, 10, "10ms: fio rate 200 QD4" },
		{ K_RATE4, 500, 500, 0.86, 10, "10ms: rate 200/s QD4" },
		/* eight QD1 jobs as they think under TCG */
		{ K_QD1TCG, 800, 200, 0.95, 10, "10ms: 8 QD1 500us 800:200" },
		{ K_QD1TCG, 500, 500, 0.95, 10, "10ms: 8 QD1 500us 500:500" },
	};
	static struct sim s;
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		u64 solo_t, solo_d, tot, hand;
		struct group *t, *d;
		double want, got;

		sim_disk8(&s, cases[c].lat * NS_PER_MS);
		t = add_kind(&s, cases[c].k, cases[c].w);
		run(&s, 1000 * NS_PER_MS, 200 * NS_PER_MS, 1000 * NS_PER_MS);
		solo_t = t->win_ios;
		sim_free(&s);
		sim_disk8(&s, cases[c].lat * NS_PER_MS);
		d = add_group(&s, cases[c].wdeep, 32, 8);
		run(&s, 1000 * NS_PER_MS, 200 * NS_PER_MS, 1000 * NS_PER_MS);
		solo_d = d->win_ios;
		sim_free(&s);

		sim_disk8(&s, cases[c].lat * NS_PER_MS);
		t = add_kind(&s, cases[c].k, cases[c].w);
		d = add_group(&s, cases[c].wdeep, 32, 8);
		t->off_ns = 3000 * NS_PER_MS;
		run(&s, 3000 * NS_PER_MS, 500 * NS_PER_MS, 3000 * NS_PER_MS);
		tot = t->win_ios + d->win_ios;
		want = (double)cases[c].w / (cases[c].w + cases[c].wdeep);
		if (solo_t < want * solo_d)	/* asks less */
			want = (double)solo_t * 2.5 / 0.8 / tot;
		got = share_ios(&s, 0);
		printf("%-22s share %.4f want %.4f total %.0f/s (solo deep %.0f/s) held_back %llu\n",
		       cases[c].name, got, want, tot / 2.5, solo_d / 0.8,
		       (unsigned long long)s.held_back);
		CHECK(rel_err(got, want) <= 0.02, "%s: share %.4f want %.4f",
		      cases[c].name, got, want);
		CHECK(tot / 2.5 >= cases[c].total * solo_d / 0.8, "%s: total %.0f/s vs %.0f/s",
		      cases[c].name, tot / 2.5, solo_d / 0.8);
		/* it stops at 3 s: from 3.1 s on the deep group has it all */
		run(&s, 3600 * NS_PER_MS, 3100 * NS_PER_MS, 3600 * NS_PER_MS);
		hand = d->win_ios;
		CHECK(rel_err(hand / 0.5, solo_d / 0.8) <= 0.02,
		      "%s: deep alone after stop %.0f/s vs solo %.0f/s",
		      cases[c].name, hand / 0.5, solo_d / 0.8);
		sim_free(&s);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "think")) {
		test_think();
		return utest_report("sim-sched think");
	}
	test_policies();
	test_heap();
	test_extract();
	test_proportional(0);
	test_proportional(~0ULL - 1000 * IOBAND_VT_ONE);	/* wraps mid-run */
	test_iosize();
	test_idle();
	test_weight_change();
	test_shallow();
	test_long_idle();
	test_many();
	return utest_report("sim-sched");
}
