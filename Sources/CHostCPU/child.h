// Shared by the probes' child processes (not part of the public header).
#ifndef SOFTVMM_HOSTCPU_CHILD_H
#define SOFTVMM_HOSTCPU_CHILD_H
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/// Fills the code page with INT3 and copies the instruction in, then takes SIGTRAP,
/// SIGILL, SIGSEGV, SIGBUS and SIGFPE on an alternate stack (the instruction may point
/// RSP anywhere) with `handler`. Exits the child with 121 if memory cannot be had.
static inline void hostcpu_child_setup(uint8_t *code_page, const uint8_t *code, size_t count,
                                       void (*handler)(int, siginfo_t *, void *)) {
    void *altstack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (altstack == MAP_FAILED) _exit(121);
    memset(code_page, 0xCC, 4096);
    memcpy(code_page, code, count);
    stack_t ss = { .ss_sp = altstack, .ss_size = 65536, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    int sigs[] = { SIGTRAP, SIGILL, SIGSEGV, SIGBUS, SIGFPE };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

#endif
