/* Whether polling pays, judged by what it buys (issue 14, docs/design.md
 * "Latency: judged by payoff"). The checks in spin.h guess from signals
 * (the machine's runnable count, the peer's CPU, preemption) whether a
 * poll will pay; on a machine with one core busy they guessed wrong often
 * enough that polling lost 6-17% to plain sleeping. The judge measures
 * instead: a thread's waits are cut into epochs of SPIN_JUDGE_WAITS; the
 * side in use ("polling allowed" or "sleep at once") runs for `every`
 * epochs, then a trial pits it against the other side in up to
 * SPIN_JUDGE_PAIRS pairs of epochs (one of each, adjacent), compared by
 * wall-clock time (the same work either way, so the shorter epoch is the
 * higher throughput). Pairs, not one epoch: on a busy machine one epoch in
 * a few loses milliseconds to a preemption, whatever its side.
 * - a trying epoch already slower than its pair's other is cut short (a
 *   lost pair costs at most one epoch of the side in use);
 * - a trial must win a majority of the pairs; sleeping wins ties (it
 *   costs no CPU): a sleeping epoch wins its pair by being no slower, a
 *   polling one by being faster by 1/16;
 * - the trial ends as soon as it is decided; a side that keeps winning is
 *   tried less often: `every` doubles from SPIN_JUDGE_EVERY_MIN to
 *   SPIN_JUDGE_EVERY_MAX, back to the minimum when the sides change.
 * Pure state, one per waiting thread; the caller reads the clock only when
 * spin_judge_needs_clock says so (an epoch's ends, and in a trying epoch). */
#ifndef COMMON_SPIN_JUDGE_H
#define COMMON_SPIN_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#define SPIN_JUDGE_WAITS 128
#define SPIN_JUDGE_EVERY_MIN 4
#define SPIN_JUDGE_EVERY_MAX 128
#define SPIN_JUDGE_PAIRS 3

struct spin_judge {
	uint64_t t0;     /* when this epoch began */
	uint64_t won_ns; /* the last epoch of the side in use */
	uint32_t n;      /* waits in this epoch so far */
	uint32_t left;   /* epochs of the side in use before the next trial */
	uint32_t every;  /* epochs of the side in use between trials */
	uint8_t wins, losses; /* the trial's pairs so far */
	bool sleep;      /* the side in use: true = do not poll */
	bool trial;      /* a trial is on: epochs alternate */
	bool trying;     /* this epoch runs the other side */
};

/* Starts with polling allowed (the checks in spin.h still apply). */
#define SPIN_JUDGE_INIT {0, 0, 0, SPIN_JUDGE_EVERY_MIN, SPIN_JUDGE_EVERY_MIN, 0, 0, false, false, false}

/* Whether the next spin_judge_step uses its clock. */
bool spin_judge_needs_clock(const struct spin_judge *j);
/* Counts one wait at time now (monotonic ns; any value when
 * spin_judge_needs_clock said no) and says whether it may poll. */
bool spin_judge_step(struct spin_judge *j, uint64_t now);
/* spin_judge_step with the clock read when needed. */
bool spin_judge_wait(struct spin_judge *j);
/* Whether the side now in use polls (no wait counted): what a sender
 * publishes so the peer polls for it or not. */
bool spin_judge_polls(const struct spin_judge *j);

#endif
