// One thread spins in user mode (jmp .) while the main thread sleeps 2 us a thousand times:
// each sleep needs a timer interrupt to preempt the spinner and wake the sleeper. Prints
// "spin-usleep: 1000 sleeps" and exits 0 (which ends the spinner too).
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *spin(void *arg) {
    (void)arg;
    for (;;) __asm__ volatile("jmp .");
    return NULL;
}

int main(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, spin, NULL) != 0) return 2;
    int n = 0;
    for (; n < 1000; n++) usleep(2);
    printf("spin-usleep: %d sleeps\n", n);
    fflush(stdout);
    return 0;
}
