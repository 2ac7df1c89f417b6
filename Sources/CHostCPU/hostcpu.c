// See hostcpu.h. The child maps a code page holding the instruction (padded
// with INT3), points rax..r15 and rsp into a scratch page, sets EFLAGS.TF and
// jumps to the instruction. The first single-step trap lands on the
// instruction itself (the trampoline's last steps are skipped); the next one reports where the
// instruction ended. Signals are taken on an alternate stack, so whatever the
// instruction does to rsp, the handler runs; it ends the child with _exit and
// an exit code that encodes the outcome.
//
// For 32-bit code the pages are mapped below 2 GiB and the trampoline far-returns
// to Linux's 32-bit user code segment (compatibility mode); signals still reach
// the 64-bit handler, whose saved RIP is then the 32-bit EIP.
#define _GNU_SOURCE
#include "hostcpu.h"
#include "child.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)

static uint8_t *code_page;
static volatile int steps;
// In the child only (set after fork, so concurrent probes in the parent's threads do not
// mix): with hostcpu_probe_registers, where the handler leaves the registers after the
// step (shared with the parent), and the values r8-r15 start with.
static uint64_t *shared_after;
static const uint64_t *initial_high;

enum { EXIT_BASE_LENGTH = 1, EXIT_UD = 100, EXIT_SEGV = 101, EXIT_BUS = 102, EXIT_FPE = 103, EXIT_BRANCH = 104 };

static void on_signal(int sig, siginfo_t *info, void *ctx) {
    (void)info;
    ucontext_t *uc = ctx;
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    switch (sig) {
    case SIGTRAP:
        // Steps before the instruction (the rest of the trampoline) are skipped.
        if (steps == 0) { if (rip == (uint64_t)code_page) steps = 1; return; }
        if (rip > (uint64_t)code_page && rip <= (uint64_t)code_page + 15) {
            if (shared_after) {
                static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                                REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
                for (int i = 0; i < 16; i++) shared_after[i] = (uint64_t)uc->uc_mcontext.gregs[order[i]];
            }
            _exit(EXIT_BASE_LENGTH + (int)(rip - (uint64_t)code_page) - 1);
        }
        _exit(EXIT_BRANCH);
    case SIGILL: _exit(EXIT_UD);
    case SIGSEGV: _exit(EXIT_SEGV);
    case SIGBUS: _exit(EXIT_BUS);
    case SIGFPE: _exit(EXIT_FPE);
    default: _exit(120);
    }
}

// Linux's 32-bit user code segment (GDT_ENTRY_DEFAULT_USER32_CS).
#define USER32_CS 0x23

static void child(const uint8_t *bytes, size_t count, int bits, const uint64_t *high_values, uint64_t *after) {
    initial_high = high_values;
    shared_after = after;
    alarm(2);
    int low = bits == 32 ? MAP_32BIT : 0;
    code_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | low, -1, 0);
    // Scratch: three read-write pages and a guard page, so a probe can tell how
    // many bytes an access reads by placing it just before the guard.
    uint8_t *scratch = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | low, -1, 0);
    if (scratch != MAP_FAILED) mprotect(scratch + 3 * 4096, 4096, PROT_NONE);
    if (code_page == MAP_FAILED || scratch == MAP_FAILED) _exit(121);
    hostcpu_child_setup(code_page, bytes, count, on_signal);
    uint64_t mid = (uint64_t)scratch + 4096 + 2048;
    if (bits == 32) {
        // A far-return frame just below mid: lretq pops EIP and CS, leaving rsp at mid.
        uint64_t *frame = (uint64_t *)(mid - 16);
        frame[0] = (uint64_t)code_page;
        frame[1] = USER32_CS;
        __asm__ volatile(
            "mov %%rax, %%rbx\n\t mov %%rax, %%rdx\n\t"
            "mov %%rax, %%rsi\n\t mov %%rax, %%rdi\n\t mov %%rax, %%rbp\n\t"
            "lea -16(%%rax), %%rsp\n\t"
            "mov %%rax, %%rcx\n\t"
            "pushfq\n\t orq $0x100, (%%rsp)\n\t popfq\n\t"
            "lretq\n\t"
            :
            : "a"(mid)
            : "memory");
        __builtin_unreachable();
    }
    // rax..rdi and rsp point into scratch; r8-r15 too, unless hostcpu_probe_registers gave
    // them values (r11 excepted: it holds the jump target).
    uint64_t high[8];
    for (int i = 0; i < 8; i++) high[i] = initial_high ? initial_high[i] : mid;
    __asm__ volatile(
        "mov %%rcx, %%r11\n\t"
        "mov 0(%%rdx), %%r8\n\t mov 8(%%rdx), %%r9\n\t mov 16(%%rdx), %%r10\n\t"
        "mov 32(%%rdx), %%r12\n\t mov 40(%%rdx), %%r13\n\t mov 48(%%rdx), %%r14\n\t mov 56(%%rdx), %%r15\n\t"
        "mov %%rax, %%rbx\n\t mov %%rax, %%rcx\n\t mov %%rax, %%rdx\n\t"
        "mov %%rax, %%rsi\n\t mov %%rax, %%rdi\n\t mov %%rax, %%rbp\n\t"
        "pushfq\n\t orq $0x100, (%%rsp)\n\t popfq\n\t"
        "mov %%rax, %%rsp\n\t"
        "jmp *%%r11\n\t"
        :
        : "a"(mid), "c"((uint64_t)code_page), "d"(high)
        : "memory");
    __builtin_unreachable();
}

int hostcpu_probe(const uint8_t *bytes, size_t count, struct hostcpu_result *result) {
    return hostcpu_probe_mode(bytes, count, 64, result);
}

static int probe(const uint8_t *bytes, size_t count, int bits, const uint64_t *high, uint64_t *after,
                 struct hostcpu_result *result);

int hostcpu_probe_registers(const uint8_t *bytes, size_t count, const uint64_t high[8], uint64_t after[16],
                            struct hostcpu_result *result) {
    uint64_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return -1;
    memset(shared, 0, 4096);
    int rc = probe(bytes, count, 64, high, shared, result);
    memcpy(after, shared, 16 * sizeof(uint64_t));
    munmap(shared, 4096);
    return rc;
}

int hostcpu_probe_mode(const uint8_t *bytes, size_t count, int bits, struct hostcpu_result *result) {
    return probe(bytes, count, bits, NULL, NULL, result);
}

static int probe(const uint8_t *bytes, size_t count, int bits, const uint64_t *high, uint64_t *after,
                 struct hostcpu_result *result) {
    if (count > 15) count = 15;
    if (bits != 32 && bits != 64) return -1;
    result->outcome = HOSTCPU_OTHER;
    result->length = 0;
    result->signal = 0;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) child(bytes, count, bits, high, after);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) return -1;
    if (WIFSIGNALED(status)) { result->signal = WTERMSIG(status); return 0; }
    if (!WIFEXITED(status)) return 0;
    int code = WEXITSTATUS(status);
    if (code >= EXIT_BASE_LENGTH && code < EXIT_BASE_LENGTH + 15) {
        result->outcome = HOSTCPU_STEPPED;
        result->length = code - EXIT_BASE_LENGTH + 1;
    } else if (code == EXIT_UD) { result->outcome = HOSTCPU_UNDEFINED; result->signal = SIGILL; }
    else if (code == EXIT_SEGV) { result->outcome = HOSTCPU_FAULT; result->signal = SIGSEGV; }
    else if (code == EXIT_BUS) { result->outcome = HOSTCPU_FAULT; result->signal = SIGBUS; }
    else if (code == EXIT_FPE) { result->outcome = HOSTCPU_ARITH; result->signal = SIGFPE; }
    else if (code == EXIT_BRANCH) result->outcome = HOSTCPU_BRANCHED;
    return 0;
}

#else
int hostcpu_probe(const uint8_t *bytes, size_t count, struct hostcpu_result *result) {
    (void)bytes; (void)count; result->outcome = HOSTCPU_OTHER; return -1;
}
int hostcpu_probe_mode(const uint8_t *bytes, size_t count, int bits, struct hostcpu_result *result) {
    (void)bytes; (void)count; (void)bits; result->outcome = HOSTCPU_OTHER; return -1;
}
int hostcpu_probe_registers(const uint8_t *bytes, size_t count, const uint64_t high[8], uint64_t after[16],
                            struct hostcpu_result *result) {
    (void)bytes; (void)count; (void)high; (void)after; result->outcome = HOSTCPU_OTHER; return -1;
}
#endif
