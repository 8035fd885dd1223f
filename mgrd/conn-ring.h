/* A connection's shared-memory ring, mgrd's side (common/ring.h): set up
 * at the handshake, then the connection's bytes go through it instead of
 * the socket. Knows nothing of frames or sessions; conn.c drives it. */
#ifndef MGRD_CONN_RING_H
#define MGRD_CONN_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/ring.h"

struct conn_ring {
	struct ring r;
	int efd;  /* clients write it to wake us; we watch it edge-triggered */
	int sock; /* the connection's socket: doorbells for clients in fd mode */
};

/* A ring of about want bytes each way (at most max): NULL if it cannot be
 * had (the connection goes on over the socket). *memfd: to send, then close. */
struct conn_ring *conn_ring_new(uint32_t want, uint32_t max, int sock, int *memfd);
void conn_ring_free(struct conn_ring *cr);

/* Sends buf and the two fds (memfd, eventfd) in one message on the socket:
 * 0, or -1 (it did not all go at once). */
int conn_ring_send_fds(int sock, const void *buf, size_t len, int memfd, int efd);

/* Bytes moved (> 0), or -1 with errno EAGAIN (empty / full) or EPROTO
 * (the client broke the ring). Wakes the client as needed. */
ssize_t conn_ring_recv(struct conn_ring *cr, void *buf, size_t len);
ssize_t conn_ring_send(struct conn_ring *cr, const void *buf, size_t len);

/* Going back to the loop: ask to be woken for data (room). True if it came
 * meanwhile, so the caller looks again instead. */
bool conn_ring_sleep(struct conn_ring *cr);
bool conn_ring_sleep_room(struct conn_ring *cr);

#endif
