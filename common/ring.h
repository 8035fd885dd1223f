/* The shared-memory ring: a client's byte stream to mgrd and back, through
 * memory both map, instead of through the socket.
 *
 * mgrd creates it when a client's Hello asks (memfd sealed against
 * shrinking, so a client cannot make mgrd fault) and sends it with the
 * Welcome over the socket, with an eventfd. Each direction is a
 * single-producer single-consumer byte pipe carrying the same frames the
 * socket would. The socket stays open: its end is how either side learns
 * that the other is gone.
 *
 * Waking: a side about to sleep sets its "waiting" word, looks once more,
 * then sleeps; the other side, after moving a counter, wakes it only if the
 * word is set. mgrd sleeps in its event loop, so clients wake it with the
 * eventfd; clients sleep on a futex on the counter they wait for.
 *
 * Everything in shared memory is the peer's to scribble on: each side keeps
 * its own copies of the counters it moves and checks the peer's against
 * the capacity; a ring that does not add up is an error (mgrd drops that
 * connection). */
#ifndef COMMON_RING_H
#define COMMON_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MIN 4096u
#define RING_MAX (64u << 20)
#define RING_DEFAULT 65536u

/* One direction in shared memory; writer and reader words on their own
 * cache lines. */
struct ring_dir {
	_Alignas(64) uint32_t tail;     /* bytes ever written (the writer's) */
	uint32_t room_wait;             /* the writer sleeps until head moves */
	_Alignas(64) uint32_t head;     /* bytes ever read (the reader's) */
	uint32_t data_wait;             /* the reader sleeps until tail moves */
};

enum ring_side { RING_CLIENT, RING_SERVER };

struct ring_shm {
	uint32_t magic, cap;
	uint32_t doorbell; /* set by the client: wake it with a socket byte, not a futex */
	struct ring_dir dir[2]; /* [0] client to mgrd, [1] mgrd to client */
	/* Who runs where, for the other side's choice to poll (common/spin.h):
	 * each side's CPU plus one as of its last send (the client) or read
	 * (mgrd); 0: unknown. Added after the first layout, inside the same
	 * header page: a peer from before it leaves 0 here, which reads as
	 * "do not poll for it", so the magic did not change. Like everything
	 * here, only a hint: a wrong value costs time, never correctness. */
	_Alignas(64) uint32_t cpu[2]; /* [RING_CLIENT], [RING_SERVER] */
};

/* One side's view. */
struct ring {
	struct ring_shm *shm;
	size_t map_size;
	uint32_t cap;
	struct ring_dir *tx, *rx;
	uint8_t *txdata, *rxdata;
	uint32_t tx_tail, rx_head; /* our own counters; never read back */
	enum ring_side side;
	uint32_t cpu;   /* what we published in shm->cpu[side] last */
	bool woke_peer; /* ring_peer_wants_data said yes since the caller cleared it */
};

/* Bytes of memory for a ring of cap bytes each way. */
size_t ring_size(uint32_t cap);
/* cap rounded to a power of two within [RING_MIN, RING_MAX]. */
uint32_t ring_cap(uint32_t want);

/* mgrd: a new sealed memfd holding a ring of cap bytes, mapped into *r.
 * Returns the memfd (the caller sends it, then closes it) or -1. */
int ring_create(struct ring *r, uint32_t cap);
/* The client: maps a received memfd; checks its size and seals. 0 or -1. */
int ring_attach(struct ring *r, int fd, uint32_t cap);
void ring_detach(struct ring *r);

/* Copies up to n bytes out; returns how many, or -1 if the peer's counter
 * does not add up. */
long ring_read(struct ring *r, void *buf, size_t n);
/* Copies up to n bytes in; returns how many (0: full), or -1 as above. */
long ring_write(struct ring *r, const void *buf, size_t n);
/* Bytes waiting to be read (-1: corrupt). */
long ring_avail(const struct ring *r);
/* Bytes are waiting, or the peer's counter does not add up (the read that
 * follows says which). */
bool ring_ready(void *r);

/* Publishes the CPU we run on (cpu: spin_cpu()) in shm->cpu[side]; a store
 * only when it changed. */
void ring_publish_cpu(struct ring *r, uint32_t cpu);
/* Whether the peer is observed running on a CPU other than cpu (ours,
 * spin_cpu()): it published one, a different one, and it is not asleep
 * waiting for our bytes. */
bool ring_peer_elsewhere(const struct ring *r, uint32_t cpu);

/* Before sleeping: say so, then look again. True if there is something
 * after all (and the word is cleared again). */
bool ring_sleep_data(struct ring *r);
bool ring_sleep_room(struct ring *r);
/* After a write (read): whether the peer sleeps waiting for data (room);
 * clears the word, so one wakeup is sent (and sets woke_peer for data). */
bool ring_peer_wants_data(struct ring *r);
bool ring_peer_wants_room(struct ring *r);

/* Futexes on shared memory: sleep while *word == val, at most ms
 * (negative: no limit); wake the sleepers on word. */
void ring_futex_wait(uint32_t *word, uint32_t val, int ms);
void ring_futex_wake(uint32_t *word);

#endif
