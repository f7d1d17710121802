/*
 * vBlake in plain C (no intrinsics), written for vbkpool's kernel benchmark from the
 * project's spec (nodecore-ucp-vblake.md section 4). Two builds of the same file:
 *   default            the straightforward form: a loop over 16 rounds, sigma from a table;
 *   -DVBLAKE_UNROLLED  rounds unrolled by macros, m[i]^C[i] computed once per scan.
 */
#ifndef VBKPOOL_VBLAKE_H
#define VBKPOOL_VBLAKE_H

#include <stdint.h>

/* Hash a 64-byte header into 24 bytes. */
void vblake(const uint8_t in[64], uint8_t out[24]);

/*
 * Try nonces start, start + 1, ... (count of them; start + count <= 2^32) in header bytes
 * 60..63 (big-endian) and write every nonce whose hash is below the 24-byte big-endian
 * target to results, stopping after max_results. Returns the number found; *tried gets the
 * number of nonces tried.
 */
uint32_t vblake_scan(const uint8_t header[64], uint32_t start, uint64_t count,
                     const uint8_t target[24], uint32_t *results, uint32_t max_results,
                     uint64_t *tried);

#endif
