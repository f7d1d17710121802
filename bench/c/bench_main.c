/*
 * Scan driver for the kernel benchmark (bench/kernel_speed.ts builds and runs it):
 *   vblake_bench hash HEADER_HEX                          prints the hash (hex)
 *   vblake_bench scan HEADER_HEX TARGET_HEX START COUNT MAX   prints "tried n1 n2 ..."
 *   vblake_bench run HEADER_HEX SECONDS START             scans with an unreachable target
 *       for about SECONDS and prints {"hashes":N,"wallMs":W,"cpuMs":C} (thread CPU time)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vblake.h"

static int parse_hex(const char *text, uint8_t *out, size_t length) {
  if (strlen(text) != 2 * length) return -1;
  for (size_t i = 0; i < length; i++) {
    unsigned int byte;
    if (sscanf(text + 2 * i, "%2x", &byte) != 1) return -1;
    out[i] = (uint8_t)byte;
  }
  return 0;
}

static double now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  uint8_t header[64], target[24], hash[24];
  if (argc >= 3 && strcmp(argv[1], "hash") == 0) {
    if (parse_hex(argv[2], header, 64) != 0) return 2;
    vblake(header, hash);
    for (int i = 0; i < 24; i++) printf("%02X", hash[i]);
    printf("\n");
    return 0;
  }
  if (argc >= 7 && strcmp(argv[1], "scan") == 0) {
    if (parse_hex(argv[2], header, 64) != 0 || parse_hex(argv[3], target, 24) != 0) return 2;
    uint32_t start = (uint32_t)strtoul(argv[4], NULL, 0);
    uint64_t count = strtoull(argv[5], NULL, 0);
    uint32_t max = (uint32_t)strtoul(argv[6], NULL, 0);
    if (max == 0 || max > 4096 || start + count > (1ULL << 32)) return 2;
    uint32_t results[4096];
    uint64_t tried = 0;
    uint32_t found = vblake_scan(header, start, count, target, results, max, &tried);
    printf("%llu", (unsigned long long)tried);
    for (uint32_t i = 0; i < found; i++) printf(" %u", results[i]);
    printf("\n");
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "run") == 0) {
    if (parse_hex(argv[2], header, 64) != 0) return 2;
    const double limit = atof(argv[3]) * 1e3;
    uint32_t start = (uint32_t)strtoul(argv[4], NULL, 0);
    memset(target, 0, sizeof target); /* nothing is below 0: every hash is counted */
    uint32_t results[1];
    uint64_t hashes = 0, tried = 0;
    const uint64_t chunk = 1 << 16;
    const double wall0 = now_ms(CLOCK_MONOTONIC), cpu0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
    double wall = 0;
    do {
      if (start > 0xFFFFFFFFu - chunk) start = 0;
      vblake_scan(header, start, chunk, target, results, 1, &tried);
      start += (uint32_t)tried;
      hashes += tried;
      wall = now_ms(CLOCK_MONOTONIC) - wall0;
    } while (wall < limit);
    const double cpu = now_ms(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    printf("{\"hashes\":%llu,\"wallMs\":%.3f,\"cpuMs\":%.3f}\n", (unsigned long long)hashes, wall,
           cpu);
    return 0;
  }
  fprintf(stderr, "usage: %s hash HEX | scan HEX TARGET START COUNT MAX | run HEX SECONDS START\n",
          argv[0]);
  return 2;
}
