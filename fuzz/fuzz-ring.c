/* libFuzzer target: the shared-memory ring (common/ring.c). mgrd's side and
 * a client's side map one 4 KiB ring; the input is a program of steps:
 * either side writes or reads some bytes, says it sleeps, asks whether the
 * peer wants waking, or, as a hostile client would, overwrites a word of
 * the shared header. Checked: no access outside the ring (ASan), reads and
 * writes never move more than asked or than fits, and, as long as no word
 * was overwritten, each direction delivers exactly the bytes sent, in
 * order. After an overwrite mgrd's side must either go on within bounds or
 * say -1 (mgrd then drops the connection). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CAP RING_MIN

/* What a direction should deliver while nobody scribbled: a byte FIFO. */
struct fuzz_fifo {
	uint8_t b[FUZZ_CAP];
	size_t head, len;
};

static struct ring fuzz_srv, fuzz_cli;
static int fuzz_fd = -1;

static void fuzz_setup(void)
{
	if (fuzz_fd < 0) {
		fuzz_fd = ring_create(&fuzz_srv, FUZZ_CAP);
		if (fuzz_fd < 0 || ring_attach(&fuzz_cli, fuzz_fd, FUZZ_CAP))
			abort();
	}
	/* a fresh ring each input: both sides' counters back to 0 */
	memset(fuzz_srv.shm->dir, 0, sizeof(fuzz_srv.shm->dir));
	fuzz_srv.shm->doorbell = 0;
	fuzz_srv.tx_tail = fuzz_srv.rx_head = fuzz_cli.tx_tail = fuzz_cli.rx_head = 0;
}

static uint32_t fuzz_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* n bytes into r, from the FIFO's view of what must come out. */
static void fuzz_write(struct ring *r, struct fuzz_fifo *f, size_t n, uint8_t seed, bool trusted)
{
	uint8_t buf[FUZZ_CAP * 2];
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed + i);
	long w = ring_write(r, buf, n);
	if (w > (long)n || w < -1)
		abort();
	if (!trusted)
		return;
	size_t room = FUZZ_CAP - f->len;
	if ((size_t)w != (n < room ? n : room)) /* all that fits, no more */
		abort();
	for (long i = 0; i < w; i++)
		f->b[(f->head + f->len + (size_t)i) % FUZZ_CAP] = buf[i];
	f->len += (size_t)w;
}

static void fuzz_read(struct ring *r, struct fuzz_fifo *f, size_t n, bool trusted)
{
	uint8_t buf[FUZZ_CAP * 2];
	long got = ring_read(r, buf, n);
	if (got > (long)n || got < -1 || (trusted && got < 0))
		abort();
	if (!trusted)
		return;
	if ((size_t)got != (n < f->len ? n : f->len)) /* all that is there, no more */
		abort();
	for (long i = 0; i < got; i++)
		if (buf[i] != f->b[(f->head + (size_t)i) % FUZZ_CAP])
			abort();
	f->head = (f->head + (size_t)got) % FUZZ_CAP;
	f->len -= (size_t)got;
}

/* A hostile client overwrites one word of the header. */
static void fuzz_scribble(uint8_t which, uint32_t v)
{
	struct ring_dir *d = &fuzz_cli.shm->dir[which & 1];
	uint32_t *words[] = {&d->tail, &d->room_wait, &d->head, &d->data_wait,
			     &fuzz_cli.shm->doorbell};
	*words[(which >> 1) % 5] = v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_fifo up, down; /* client to mgrd, mgrd to client */
	fuzz_setup();
	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	bool trusted = true;
	for (size_t i = 0; i + 2 <= size; i += 2) {
		uint8_t op = data[i] & 15;
		size_t n = (size_t)data[i + 1] * 37 % (FUZZ_CAP * 2); /* up to twice the ring */
		switch (op) {
		case 0: fuzz_write(&fuzz_cli, &up, n, data[i], trusted); break;
		case 1: fuzz_read(&fuzz_srv, &up, n, trusted); break;
		case 2: fuzz_write(&fuzz_srv, &down, n, data[i], trusted); break;
		case 3: fuzz_read(&fuzz_cli, &down, n, trusted); break;
		case 4: (void)ring_sleep_data(&fuzz_srv); break;
		case 5: (void)ring_sleep_data(&fuzz_cli); break;
		case 6: (void)ring_sleep_room(&fuzz_cli); break;
		case 7: (void)ring_peer_wants_data(&fuzz_srv); break;
		case 8: (void)ring_peer_wants_room(&fuzz_srv); break;
		case 9: (void)ring_peer_wants_data(&fuzz_cli); break;
		case 10:
			if (ring_avail(&fuzz_srv) > FUZZ_CAP || (trusted && ring_avail(&fuzz_srv) < 0))
				abort();
			break;
		case 11:
			if (i + 6 <= size) {
				fuzz_scribble(data[i + 1], fuzz_u32(data + i + 2));
				trusted = false;
				i += 4;
			}
			break;
		default: break;
		}
	}
	return 0;
}
