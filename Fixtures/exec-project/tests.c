#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checksum.h"

static int failures;

static void check(const char *what, long got, long expected)
{
    printf("%s %s: %ld (expected %ld)\n", got == expected ? "PASS" : "FAIL", what, got, expected);
    if (got != expected)
        failures++;
}

int main(int argc, char **argv)
{
    long expected_sum = argc > 1 ? atol(argv[1]) : 5050;
    check("crc32 of \"123456789\"", crc32_ieee("123456789", 9), 0xCBF43926L);
    check("crc32 of nothing", crc32_ieee("", 0), 0);
    check("sum of 1..100 on 4 threads", parallel_sum(100, 4), expected_sum);
    printf("online cpus: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
