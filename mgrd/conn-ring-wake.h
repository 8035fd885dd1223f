/* Waking ring clients, mgrd's side: the futex wakes a loop pass's replies
 * owe are made together at the end of the pass (one system call for all,
 * through io_uring where the kernel has IORING_OP_FUTEX_WAKE, else one
 * futex call each; a wake alone in its pass goes at once, by futex),
 * not one per reply as it is sent: a client woken on
 * mgrd's CPU preempts mgrd at the wake's return, before it has answered
 * the other requests it found (docs/design.md "Latency"). */
#ifndef MGRD_CONN_RING_WAKE_H
#define MGRD_CONN_RING_WAKE_H

#include <stdint.h>

struct event_base;

/* A ring of base's loop is set up (the first one makes the pass's flush
 * event) / freed (its pending wake, if any, is dropped: the caller wakes
 * it itself; the last one frees the event). */
int conn_ring_wake_attach(struct event_base *base);
void conn_ring_wake_detach(uint32_t *word);
/* A client sleeps on *word: wake it before the loop sleeps. */
void conn_ring_wake_later(uint32_t *word);
/* The wakes owed, now: before polling for the next request, which a
 * client still asleep would never send. */
void conn_ring_wake_flush(void);

#endif
