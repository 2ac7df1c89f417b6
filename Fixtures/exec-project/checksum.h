#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, reflected), as zlib's crc32. */
uint32_t crc32_ieee(const void *data, size_t length);
/* The sum of 1..n, computed by `threads` threads. */
long parallel_sum(long n, int threads);
