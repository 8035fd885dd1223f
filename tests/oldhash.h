/* The map hash before issue 13 (XXH3 of the int's 8 bytes, seeded with its
 * kind and nothing secret) and keys that collide under it, made the way an
 * attacker who reads the source would: XXH3's 4-8 byte path is a public
 * bijection of the key, so it is inverted for each wanted hash, O(1) a key.
 * For test-htab and test-integ-hashflood. */
#ifndef TESTS_OLDHASH_H
#define TESTS_OLDHASH_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#include <mgr/value.h>

static inline uint64_t oldhash_int(int64_t x)
{
	return XXH3_64bits_withSeed(&x, sizeof(x), MGR_INT);
}

#define OLDHASH_MX 0x9FB21C651E98DF25ULL /* XXH3_rrmxmx's multiplier */

static inline uint64_t oldhash_rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }

/* XXH3_rrmxmx(h, 8) undone step by step. Its first step L(h) = h ^ rotl 49
 * ^ rotl 24 is linear with L^64 = 1 (squaring doubles the rotations, mod
 * 64), so L^-1 = L^63. */
static inline uint64_t oldhash_unmix(uint64_t y)
{
	uint64_t inv = OLDHASH_MX; /* Newton: the inverse of an odd number mod 2^64 */
	for (int i = 0; i < 6; i++)
		inv *= 2 - OLDHASH_MX * inv;
	y ^= y >> 28 ^ y >> 56;
	y *= inv;
	y ^= (y >> 35) + 8; /* touches bits below 30 only: its own inverse */
	y *= inv;
	for (int i = 0; i < 63; i++)
		y ^= oldhash_rotl(y, 49) ^ oldhash_rotl(y, 24);
	return y;
}

/* n int keys whose old hashes are i << bits (i = 1..n): all their low
 * `bits` bits zero, so an index of up to 2^bits slots puts them all in one
 * home slot. */
static inline void oldhash_colliding(int64_t *keys, size_t n, int bits)
{
	uint64_t flip = oldhash_unmix(oldhash_int(0)); /* the key 0 is the flip itself */
	for (size_t i = 0; i < n; i++) {
		uint64_t in = oldhash_unmix((uint64_t)(i + 1) << bits) ^ flip;
		keys[i] = (int64_t)(in >> 32 | in << 32); /* XXH3 reads the halves swapped */
	}
}

#endif
