/* vBlake in plain C: see vblake.h. */
#include "vblake.h"

#include <string.h>

static const uint64_t IV[8] = {
    0x4BBF42C1F006AD9DULL, 0x5D11A8C3B5AEB12EULL, 0xA64AB78DC2774652ULL, 0xC67595724658F253ULL,
    0xB8864E79CB891E56ULL, 0x12ED593E29FB41A1ULL, 0xB1DA3AB63C60BAA8ULL, 0x6D20E50C1F954DEDULL,
};

static const uint64_t C[16] = {
    0xA51B6A89D489E800ULL, 0xD35B2E0E0B723800ULL, 0xA47B39A2AE9F9000ULL, 0x0C0EFA33E77E6488ULL,
    0x4F452FEC309911EBULL, 0x3CFCC66F74E1022CULL, 0x4606AD364DC879DDULL, 0xBBA055B53D47C800ULL,
    0x531655D90C59EB1BULL, 0xD1A00BA6DAE5B800ULL, 0x2FE452DA9632463EULL, 0x98A7B5496226F800ULL,
    0xBAFCD004F92CA000ULL, 0x64A39957839525E7ULL, 0xD859E6F081AAE000ULL, 0x63D980597B560E6BULL,
};

static const uint8_t SIGMA[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

#define ROTR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

/* G with vBlake's rotations and the final d = ~d (XNOR3 ^ XOR3 of the sources). */
#define G(a, b, c, d, x, y)      \
  do {                           \
    a = a + b + (x);             \
    d = ROTR64(d ^ a, 60);       \
    c = c + d;                   \
    b = ROTR64(b ^ c, 43);       \
    a = a + b + (y);             \
    d = ROTR64(d ^ a, 5);        \
    c = c + d;                   \
    b = ROTR64(b ^ c, 18);       \
    d = ~d;                      \
  } while (0)

static uint64_t load64le(const uint8_t *p) {
  uint64_t x = 0;
  for (int i = 7; i >= 0; i--) x = (x << 8) | p[i];
  return x;
}

static void store64le(uint8_t *p, uint64_t x) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(x >> (8 * i));
}

static void init_state(uint64_t v[16]) {
  for (int i = 0; i < 8; i++) {
    v[i] = IV[i];
    v[i + 8] = IV[i];
  }
  v[0] ^= 0x01010018ULL; /* parameter block: digest length 24, fanout 1, depth 1 */
  v[12] ^= 64;           /* byte counter, always 64 */
  v[14] ^= ~0ULL;        /* final block */
}

static void fold(const uint64_t v[16], uint64_t out[3]) {
  uint64_t h[8];
  for (int i = 0; i < 8; i++) h[i] = IV[i] ^ (i == 0 ? 0x01010018ULL : 0) ^ v[i] ^ v[i + 8];
  out[0] = h[0] ^ h[3] ^ h[6];
  out[1] = h[1] ^ h[4] ^ h[7];
  out[2] = h[2] ^ h[5];
}

#ifndef VBLAKE_UNROLLED

/* Straightforward: m[i] ^ C[i] per G call, sigma read from the table. */
static void compress(const uint64_t m[16], uint64_t out[3]) {
  uint64_t v[16];
  init_state(v);
  for (int r = 0; r < 16; r++) {
    const uint8_t *s = SIGMA[r % 10];
    G(v[0], v[4], v[8], v[12], m[s[1]] ^ C[s[1]], m[s[0]] ^ C[s[0]]);
    G(v[1], v[5], v[9], v[13], m[s[3]] ^ C[s[3]], m[s[2]] ^ C[s[2]]);
    G(v[2], v[6], v[10], v[14], m[s[5]] ^ C[s[5]], m[s[4]] ^ C[s[4]]);
    G(v[3], v[7], v[11], v[15], m[s[7]] ^ C[s[7]], m[s[6]] ^ C[s[6]]);
    G(v[0], v[5], v[10], v[15], m[s[9]] ^ C[s[9]], m[s[8]] ^ C[s[8]]);
    G(v[1], v[6], v[11], v[12], m[s[11]] ^ C[s[11]], m[s[10]] ^ C[s[10]]);
    G(v[2], v[7], v[8], v[13], m[s[13]] ^ C[s[13]], m[s[12]] ^ C[s[12]]);
    G(v[3], v[4], v[9], v[14], m[s[15]] ^ C[s[15]], m[s[14]] ^ C[s[14]]);
  }
  fold(v, out);
}

static void message_words(const uint8_t in[64], uint64_t m[16]) {
  memset(m, 0, 16 * sizeof m[0]);
  for (int i = 0; i < 8; i++) m[i] = load64le(in + 8 * i);
}

#else

/* Unrolled: mc[i] = m[i] ^ C[i] given; the sigma indices are constants. */
#define ROUND(r)                                                                          \
  do {                                                                                    \
    G(v0, v4, v8, v12, mc[SIGMA[r][1]], mc[SIGMA[r][0]]);                                 \
    G(v1, v5, v9, v13, mc[SIGMA[r][3]], mc[SIGMA[r][2]]);                                 \
    G(v2, v6, v10, v14, mc[SIGMA[r][5]], mc[SIGMA[r][4]]);                                \
    G(v3, v7, v11, v15, mc[SIGMA[r][7]], mc[SIGMA[r][6]]);                                \
    G(v0, v5, v10, v15, mc[SIGMA[r][9]], mc[SIGMA[r][8]]);                                \
    G(v1, v6, v11, v12, mc[SIGMA[r][11]], mc[SIGMA[r][10]]);                              \
    G(v2, v7, v8, v13, mc[SIGMA[r][13]], mc[SIGMA[r][12]]);                               \
    G(v3, v4, v9, v14, mc[SIGMA[r][15]], mc[SIGMA[r][14]]);                               \
  } while (0)

static void compress_mc(const uint64_t mc[16], uint64_t out[3]) {
  uint64_t s[16];
  init_state(s);
  uint64_t v0 = s[0], v1 = s[1], v2 = s[2], v3 = s[3], v4 = s[4], v5 = s[5], v6 = s[6],
           v7 = s[7], v8 = s[8], v9 = s[9], v10 = s[10], v11 = s[11], v12 = s[12],
           v13 = s[13], v14 = s[14], v15 = s[15];
  ROUND(0); ROUND(1); ROUND(2); ROUND(3); ROUND(4); ROUND(5); ROUND(6); ROUND(7);
  ROUND(8); ROUND(9); ROUND(0); ROUND(1); ROUND(2); ROUND(3); ROUND(4); ROUND(5);
  uint64_t v[16] = {v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15};
  fold(v, out);
}

static void message_words(const uint8_t in[64], uint64_t mc[16]) {
  for (int i = 0; i < 16; i++) mc[i] = (i < 8 ? load64le(in + 8 * i) : 0) ^ C[i];
}

static void compress(const uint64_t mc[16], uint64_t out[3]) { compress_mc(mc, out); }

#endif

void vblake(const uint8_t in[64], uint8_t out[24]) {
  uint64_t m[16], h[3];
  message_words(in, m);
  compress(m, h);
  for (int i = 0; i < 3; i++) store64le(out + 8 * i, h[i]);
}

static uint64_t load64be(const uint8_t *p) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x = (x << 8) | p[i];
  return x;
}

static uint64_t bswap64(uint64_t x) {
  uint8_t b[8];
  store64le(b, x);
  return load64be(b);
}

uint32_t vblake_scan(const uint8_t header[64], uint32_t start, uint64_t count,
                     const uint8_t target[24], uint32_t *results, uint32_t max_results,
                     uint64_t *tried) {
  uint64_t m[16], h[3];
  const uint64_t t0 = load64be(target), t1 = load64be(target + 8), t2 = load64be(target + 16);
  uint32_t found = 0;
  message_words(header, m);
  /* m[7]: difficulty bytes 56..59 in the low half, the nonce (bytes 60..63) in the high half. */
  const uint64_t low7 = m[7] & 0xFFFFFFFFULL;
  for (uint64_t i = 0; i < count; i++) {
    const uint32_t nonce = (uint32_t)(start + i);
    const uint64_t swapped = (uint64_t)__builtin_bswap32(nonce) << 32;
#ifdef VBLAKE_UNROLLED
    m[7] = low7 | (swapped ^ (C[7] & 0xFFFFFFFF00000000ULL)); /* words hold m ^ C */
#else
    m[7] = low7 | swapped;
#endif
    compress(m, h);
    const uint64_t h0 = bswap64(h[0]);
    if (h0 > t0) continue;
    const uint64_t h1 = bswap64(h[1]), h2 = bswap64(h[2]);
    if (h0 < t0 || (h0 == t0 && (h1 < t1 || (h1 == t1 && h2 < t2)))) {
      results[found++] = nonce;
      if (found >= max_results) {
        *tried = i + 1;
        return found;
      }
    }
  }
  *tried = count;
  return found;
}
