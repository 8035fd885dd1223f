/* Polling judged by its payoff (see spin-judge.h). */
#include "spin-judge.h"

#include "clock.h"

/* Pairs a trial must win: a majority. */
#define SPIN_JUDGE_NEED (SPIN_JUDGE_PAIRS / 2 + 1)

bool spin_judge_needs_clock(const struct spin_judge *j)
{
	return j->n == 0 || j->trying || j->n + 1 == SPIN_JUDGE_WAITS;
}

bool spin_judge_polls(const struct spin_judge *j) { return j->sleep == j->trying; }

/* The trial is over: the other side is in use from now on if it won. */
static void spin_judge_settle(struct spin_judge *j, bool won)
{
	if (won) {
		j->sleep = !j->sleep;
		j->every = SPIN_JUDGE_EVERY_MIN;
	} else {
		j->every = j->every >= SPIN_JUDGE_EVERY_MAX / 2 ? SPIN_JUDGE_EVERY_MAX : 2 * j->every;
	}
	j->left = j->every;
	j->trial = false;
	j->wins = j->losses = 0;
}

/* A trying epoch ended (ns: its length; 0: cut short, lost): one pair's
 * verdict, and the trial's once it is decided. Sleeping wins ties (it
 * costs no CPU); polling must be clearly faster. */
static void spin_judge_pair(struct spin_judge *j, uint64_t ns)
{
	bool try_sleep = !j->sleep;
	bool won = ns && (try_sleep ? ns <= j->won_ns : ns * 16 < j->won_ns * 15);
	j->wins += won;
	j->losses += !won;
	j->trying = false;
	j->n = 0;
	if (j->wins >= SPIN_JUDGE_NEED)
		spin_judge_settle(j, true);
	else if (j->losses > SPIN_JUDGE_PAIRS - SPIN_JUDGE_NEED)
		spin_judge_settle(j, false);
}

/* An epoch of SPIN_JUDGE_WAITS waits ended at now. */
static void spin_judge_epoch(struct spin_judge *j, uint64_t now)
{
	uint64_t ns = now - j->t0;
	if (j->trying) {
		spin_judge_pair(j, ns ? ns : 1);
		return;
	}
	j->n = 0;
	j->won_ns = ns; /* the side in use, for the trying epoch after it */
	if (j->trial || --j->left == 0) {
		j->trial = true;
		j->trying = true;
	}
}

bool spin_judge_step(struct spin_judge *j, uint64_t now)
{
	if (j->n++ == 0)
		j->t0 = now;
	if (j->trying && now - j->t0 > j->won_ns) /* already slower: lost */
		spin_judge_pair(j, 0);
	bool polls = spin_judge_polls(j);
	if (j->n == SPIN_JUDGE_WAITS)
		spin_judge_epoch(j, now);
	return polls;
}

bool spin_judge_wait(struct spin_judge *j)
{
	return spin_judge_step(j, spin_judge_needs_clock(j) ? clock_now_ns() : 0);
}
