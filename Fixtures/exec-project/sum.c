#include <pthread.h>
#include "checksum.h"

struct part { long from, to, sum; };

static void *add(void *arg)
{
    struct part *p = arg;
    p->sum = 0;
    for (long i = p->from; i <= p->to; i++)
        p->sum += i;
    return 0;
}

long parallel_sum(long n, int threads)
{
    pthread_t t[16];
    struct part parts[16];
    long total = 0;
    if (threads < 1 || threads > 16)
        return -1;
    for (int i = 0; i < threads; i++) {
        parts[i].from = n * i / threads + 1;
        parts[i].to = n * (i + 1) / threads;
        if (pthread_create(&t[i], 0, add, &parts[i]))
            return -1;
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], 0);
        total += parts[i].sum;
    }
    return total;
}
