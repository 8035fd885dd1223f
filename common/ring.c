/* The shared-memory ring (see ring.h). */
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RING_MAGIC 0x6d677231u /* "mgr1" */
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* the sleep handshake needs store-then-load order on both sides */
#define STORE_SC(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define LOAD_SC(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define XCHG(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)

static size_t ring_header(void) { return (sizeof(struct ring_shm) + 4095) & ~(size_t)4095; }

size_t ring_size(uint32_t cap) { return ring_header() + 2 * (size_t)cap; }

uint32_t ring_cap(uint32_t want)
{
	uint32_t cap = RING_MIN;
	while (cap < want && cap < RING_MAX)
		cap <<= 1;
	return cap;
}

static int ring_map(struct ring *r, int fd, uint32_t cap, enum ring_side side)
{
	size_t size = ring_size(cap);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	uint8_t *data = (uint8_t *)p + ring_header();
	*r = (struct ring){.shm = p, .map_size = size, .cap = cap, .side = side};
	int in = side == RING_SERVER ? 0 : 1; /* the direction we read */
	r->rx = &r->shm->dir[in];
	r->tx = &r->shm->dir[!in];
	r->rxdata = data + (size_t)in * cap;
	r->txdata = data + (size_t)!in * cap;
	return 0;
}

int ring_create(struct ring *r, uint32_t cap)
{
	int fd = memfd_create("mgr-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)ring_size(cap)) || fcntl(fd, F_ADD_SEALS, RING_SEALS) ||
	    ring_map(r, fd, cap, RING_SERVER)) {
		close(fd);
		return -1;
	}
	r->shm->magic = RING_MAGIC;
	r->shm->cap = cap;
	return fd;
}

int ring_attach(struct ring *r, int fd, uint32_t cap)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	if (cap < RING_MIN || cap > RING_MAX || (cap & (cap - 1)) || seals < 0 ||
	    !(seals & F_SEAL_SHRINK) || fstat(fd, &st) || (size_t)st.st_size < ring_size(cap))
		return -1;
	if (ring_map(r, fd, cap, RING_CLIENT))
		return -1;
	/* a forked child never uses its parent's ring: do not copy it at fork */
	madvise(r->shm, r->map_size, MADV_DONTFORK);
	if (r->shm->magic != RING_MAGIC || r->shm->cap != cap) {
		ring_detach(r);
		return -1;
	}
	return 0;
}

void ring_detach(struct ring *r)
{
	if (r->shm)
		munmap(r->shm, r->map_size);
	memset(r, 0, sizeof(*r));
}

long ring_avail(const struct ring *r)
{
	uint32_t n = LOAD(&r->rx->tail) - r->rx_head;
	return n > r->cap ? -1 : (long)n;
}

bool ring_ready(void *r) { return ring_avail(r) != 0; }

void ring_publish_cpu(struct ring *r, uint32_t cpu)
{
	if (r->cpu != cpu) {
		r->cpu = cpu;
		__atomic_store_n(&r->shm->cpu[r->side], cpu, __ATOMIC_RELAXED);
	}
}

bool ring_peer_elsewhere(const struct ring *r, uint32_t cpu)
{
	uint32_t peer = __atomic_load_n(&r->shm->cpu[!r->side], __ATOMIC_RELAXED);
	return peer && peer != cpu && !__atomic_load_n(&r->tx->data_wait, __ATOMIC_RELAXED);
}

/* Copies n bytes between linear memory and the ring at offset pos. */
static void ring_copy(uint8_t *ring, uint32_t cap, uint32_t pos, uint8_t *lin, size_t n,
		      bool to_ring)
{
	uint32_t at = pos & (cap - 1);
	size_t first = cap - at < n ? cap - at : n;
	if (to_ring) {
		memcpy(ring + at, lin, first);
		memcpy(ring, lin + first, n - first);
	} else {
		memcpy(lin, ring + at, first);
		memcpy(lin + first, ring, n - first);
	}
}

long ring_read(struct ring *r, void *buf, size_t n)
{
	long avail = ring_avail(r);
	if (avail <= 0)
		return avail;
	if (n > (size_t)avail)
		n = (size_t)avail;
	ring_copy(r->rxdata, r->cap, r->rx_head, buf, n, false);
	r->rx_head += (uint32_t)n;
	STORE_SC(&r->rx->head, r->rx_head);
	return (long)n;
}

long ring_write(struct ring *r, const void *buf, size_t n)
{
	uint32_t used = r->tx_tail - LOAD(&r->tx->head);
	if (used > r->cap)
		return -1;
	if (n > r->cap - used)
		n = r->cap - used;
	if (!n)
		return 0;
	ring_copy(r->txdata, r->cap, r->tx_tail, (uint8_t *)buf, n, true);
	r->tx_tail += (uint32_t)n;
	STORE_SC(&r->tx->tail, r->tx_tail);
	return (long)n;
}

bool ring_sleep_data(struct ring *r)
{
	STORE_SC(&r->rx->data_wait, 1);
	if (LOAD_SC(&r->rx->tail) == r->rx_head)
		return false;
	STORE(&r->rx->data_wait, 0);
	return true;
}

bool ring_sleep_room(struct ring *r)
{
	STORE_SC(&r->tx->room_wait, 1);
	if (r->tx_tail - LOAD_SC(&r->tx->head) >= r->cap)
		return false;
	STORE(&r->tx->room_wait, 0);
	return true;
}

bool ring_peer_wants_data(struct ring *r)
{
	bool wants = LOAD_SC(&r->tx->data_wait) && XCHG(&r->tx->data_wait, 0);
	if (wants) /* atomic: libmgr's reader looks without the sender's lock */
		__atomic_store_n(&r->woke_peer, true, __ATOMIC_RELAXED);
	return wants;
}

bool ring_peer_wants_room(struct ring *r)
{
	return LOAD_SC(&r->rx->room_wait) && XCHG(&r->rx->room_wait, 0);
}

void ring_futex_wait(uint32_t *word, uint32_t val, int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	syscall(SYS_futex, word, FUTEX_WAIT, val, ms < 0 ? NULL : &ts, NULL, 0);
}

void ring_futex_wake(uint32_t *word) { syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0); }
