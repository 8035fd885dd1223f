/* A raw session that asks mgrd for a shared-memory ring of RING_MIN bytes
 * each way, for tests that play a hostile or careless ring client: the
 * Welcome comes over the socket with the memfd and the eventfd; requests
 * then go into the ring and a write to the eventfd kicks mgrd. Failures
 * are cmocka assertions. */
#ifndef TESTS_RAW_RING_H
#define TESTS_RAW_RING_H

#include <stdint.h>

#include "../common/msg.h"
#include "../common/ring.h"

struct raw_ring {
	int sock, memfd, efd;
	struct ring r;
};

/* Connects to path as client `name`, checks the Welcome offers RING_MIN and
 * maps the ring. */
void raw_ring_open(const char *path, const char *name, struct raw_ring *rr);
/* Wakes mgrd: there is something in the ring. */
void raw_ring_kick(struct raw_ring *rr);
/* Encodes m (borrowed) into the ring whole, then kicks. */
void raw_ring_send(struct raw_ring *rr, const struct msg *m);
void raw_ring_close(struct raw_ring *rr);

#endif
