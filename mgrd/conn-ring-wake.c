/* Waking ring clients at the end of a loop pass (see conn-ring-wake.h).
 * One process, one loop thread: the state below is the loop thread's.
 * io_uring is set up by hand (one system call and two mappings; no
 * liburing: Debian 12's predates IORING_OP_FUTEX_WAKE, and so may the
 * running kernel, in which case the first batch comes back EINVAL and
 * futex calls take over for good). */
#include "conn-ring-wake.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/ring.h"

#define WAKE_OP_FUTEX_WAKE 52 /* IORING_OP_FUTEX_WAKE, Linux 6.7 */
#define WAKE_FUTEX2_SIZE_U32 0x02
#define WAKE_ENTRIES 64u

struct wake_uring {
	int fd;
	void *sq, *cq;
	size_t sq_len, cq_len;
	struct io_uring_sqe *sqes;
	size_t sqes_len;
	uint32_t *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
};

/* How wakes are made: $MGR_RING_WAKE, for A/B runs of the three and the
 * tests of each path (integ-ring-wake-futex). */
enum wake_mode { WAKE_URING, WAKE_FUTEX, WAKE_NOW };
static const char *const wake_mode_names[] = {"uring", "futex", "now"};

static struct {
	struct event_base *base;
	struct event *flush; /* made active by the pass's first wake owed */
	int rings;           /* rings of base alive: the last frees the rest */
	uint32_t **words;    /* futex words owed a wake, n of cap */
	uint32_t n, cap;
	int mode;            /* enum wake_mode; -1 until the first ring */
	struct wake_uring u; /* fd -1: none (WAKE_FUTEX, or it failed) */
} wake = {.u.fd = -1, .mode = -1};

static int wake_mode_from_env(void)
{
	const char *e = getenv("MGR_RING_WAKE");
	for (int m = 0; e && m < (int)(sizeof(wake_mode_names) / sizeof(*wake_mode_names)); m++)
		if (!strcmp(e, wake_mode_names[m]))
			return m;
	return WAKE_URING;
}

static void wake_uring_close(struct wake_uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq && u->cq != u->sq)
		munmap(u->cq, u->cq_len);
	if (u->sq)
		munmap(u->sq, u->sq_len);
	if (u->fd >= 0)
		close(u->fd);
	*u = (struct wake_uring){.fd = -1};
}

static int wake_uring_open(struct wake_uring *u)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	u->fd = (int)syscall(SYS_io_uring_setup, WAKE_ENTRIES, &p);
	if (u->fd < 0 || !(p.features & IORING_FEAT_SINGLE_MMAP))
		goto fail;
	u->sq_len = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
	u->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (u->cq_len > u->sq_len)
		u->sq_len = u->cq_len;
	u->sq = mmap(NULL, u->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		     IORING_OFF_SQ_RING);
	if (u->sq == MAP_FAILED) {
		u->sq = NULL;
		goto fail;
	}
	u->cq = u->sq;
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		       IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		goto fail;
	}
	uint8_t *sq = u->sq, *cq = u->cq;
	u->sq_tail = (uint32_t *)(sq + p.sq_off.tail);
	u->sq_mask = (uint32_t *)(sq + p.sq_off.ring_mask);
	u->sq_array = (uint32_t *)(sq + p.sq_off.array);
	u->cq_head = (uint32_t *)(cq + p.cq_off.head);
	u->cq_tail = (uint32_t *)(cq + p.cq_off.tail);
	u->cq_mask = (uint32_t *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
fail:
	wake_uring_close(u);
	return -1;
}

/* Failed wakes come back as completions (successes are skipped): false if
 * the kernel does not know the operation (then futexes from now on). */
static bool wake_uring_reap(struct wake_uring *u)
{
	bool known = true;
	uint32_t head = *u->cq_head, tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
	for (; head != tail; head++)
		if (u->cqes[head & *u->cq_mask].res == -EINVAL ||
		    u->cqes[head & *u->cq_mask].res == -EOPNOTSUPP)
			known = false;
	__atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
	return known;
}

/* Up to WAKE_ENTRIES wakes in one system call: false if they were not made. */
static bool wake_uring_submit(struct wake_uring *u, uint32_t **words, uint32_t n)
{
	uint32_t tail = *u->sq_tail, mask = *u->sq_mask;
	for (uint32_t i = 0; i < n; i++, tail++) {
		struct io_uring_sqe *e = &u->sqes[tail & mask];
		memset(e, 0, sizeof(*e));
		e->opcode = WAKE_OP_FUTEX_WAKE;
		e->flags = IOSQE_CQE_SKIP_SUCCESS;
		e->fd = WAKE_FUTEX2_SIZE_U32;
		e->addr = (uint64_t)(uintptr_t)words[i];
		e->addr2 = 1;
		e->addr3 = FUTEX_BITSET_MATCH_ANY;
		u->sq_array[tail & mask] = tail & mask;
	}
	__atomic_store_n(u->sq_tail, tail, __ATOMIC_RELEASE);
	long rc = syscall(SYS_io_uring_enter, u->fd, n, 0, 0, NULL, 0);
	return rc == (long)n && wake_uring_reap(u);
}

void conn_ring_wake_flush(void)
{
	uint32_t done = 0;
	if (wake.u.fd >= 0 && wake.n > 1) /* one: a futex call is cheaper */
		while (done < wake.n) {
			uint32_t k = wake.n - done < WAKE_ENTRIES ? wake.n - done : WAKE_ENTRIES;
			if (!wake_uring_submit(&wake.u, wake.words + done, k)) {
				wake_uring_close(&wake.u); /* futexes from now on; these again */
				break;
			}
			done += k;
		}
	for (; done < wake.n; done++)
		ring_futex_wake(wake.words[done]);
	wake.n = 0;
}

static void wake_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	conn_ring_wake_flush();
}

int conn_ring_wake_attach(struct event_base *base)
{
	if (wake.mode < 0)
		wake.mode = wake_mode_from_env();
	if (wake.rings++ == 0) {
		wake.base = base;
		wake.flush = event_new(base, -1, 0, wake_flush_cb, NULL);
		if (wake.mode == WAKE_URING)
			(void)wake_uring_open(&wake.u); /* failed: futex calls */
	}
	return wake.flush ? 0 : -1;
}

void conn_ring_wake_detach(uint32_t *word)
{
	for (uint32_t i = 0; i < wake.n;)
		if (wake.words[i] == word)
			wake.words[i] = wake.words[--wake.n];
		else
			i++;
	if (--wake.rings == 0) {
		if (wake.flush)
			event_free(wake.flush);
		wake.flush = NULL;
		wake_uring_close(&wake.u);
		free(wake.words);
		wake.words = NULL;
		wake.n = wake.cap = 0;
	}
}

void conn_ring_wake_later(uint32_t *word)
{
	/* nothing else to do in this pass (no flush owed either): wake now */
	if (wake.mode == WAKE_NOW || !wake.flush ||
	    (!wake.n && !event_base_get_num_events(wake.base, EVENT_BASE_COUNT_ACTIVE))) {
		ring_futex_wake(word);
		return;
	}
	if (wake.n == wake.cap) {
		uint32_t cap = wake.cap ? 2 * wake.cap : 16;
		uint32_t **w = realloc(wake.words, cap * sizeof(*w));
		if (!w) {
			ring_futex_wake(word);
			return;
		}
		wake.words = w;
		wake.cap = cap;
	}
	wake.words[wake.n++] = word;
	if (wake.n == 1)
		event_active(wake.flush, EV_TIMEOUT, 0);
}
