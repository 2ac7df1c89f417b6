// See hostcpu.h, hostcpu_execute. A forked child maps the data pages and the code
// page at fixed addresses, loads every general register and RFLAGS from the input
// state, and jumps to the instruction with EFLAGS.TF set. The first single-step trap
// lands on the instruction (it repairs the stack slot POPFQ used); the second reports
// the registers, flags, RIP and data pages through a shared page, and the child exits.
// In 32-bit mode the jump is a far return to Linux's 32-bit user code segment
// (compatibility mode), with DS and ES holding its flat user data segment.
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

struct shared_out {
    struct hostcpu_state state;
    int done;
    int signal;
    int si_code;
    int trapno;
    uint8_t data[HOSTCPU_DATA_SIZE];
};

static struct shared_out *out_page;     // child only
static volatile int exec_steps;
static uint64_t saved_frame[3], frame_address; // what the stack words POPFQ (and LRETQ) use held before
static int frame_words;
__attribute__((used)) static uint64_t exec_target = HOSTCPU_CODE_BASE;
__attribute__((used)) static int exec_bits;

static void exec_signal(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    greg_t *g = uc->uc_mcontext.gregs;
    uint64_t rip = (uint64_t)g[REG_RIP];
    if (sig == SIGTRAP && exec_steps == 0) {
        if (rip == HOSTCPU_CODE_BASE) {
            exec_steps = 1;
            memcpy((void *)frame_address, saved_frame, (size_t)frame_words * 8);
        }
        return;
    }
    // A REP string instruction traps after every iteration with RIP still on it: keep going
    // (up to a limit) so the state reported is the one after the whole repetition.
    if (sig == SIGTRAP && rip == HOSTCPU_CODE_BASE && exec_steps < 100000) {
        exec_steps++;
        return;
    }
    if (sig == SIGTRAP) {
        static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                        REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
        for (int i = 0; i < 16; i++) out_page->state.gpr[i] = (uint64_t)g[order[i]];
        out_page->state.rflags = (uint64_t)g[REG_EFL] & ~(uint64_t)0x100;
        out_page->state.rip = rip;
        if (uc->uc_mcontext.fpregs) memcpy(out_page->state.fx, uc->uc_mcontext.fpregs, sizeof out_page->state.fx);
        memcpy(out_page->data, (void *)HOSTCPU_DATA_BASE, HOSTCPU_DATA_SIZE);
        out_page->done = 1;
        _exit(0);
    }
    out_page->signal = sig;
    out_page->si_code = info->si_code;
    out_page->trapno = (int)g[REG_TRAPNO];
    if (sig == SIGFPE && uc->uc_mcontext.fpregs) memcpy(out_page->state.fx, uc->uc_mcontext.fpregs, sizeof out_page->state.fx);
    out_page->state.rip = rip;
    _exit(0);
}

// Linux's 32-bit user code segment and its flat user data segment.
#define EXEC_USER32_CS 0x23
#define EXEC_USER_DS 0x2b

static void exec_child(const uint8_t *code, size_t count, int bits, const struct hostcpu_state *in,
                       const uint8_t *data_in) {
    alarm(2);
    void *data = mmap((void *)HOSTCPU_DATA_BASE, HOSTCPU_DATA_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    void *text = mmap((void *)HOSTCPU_CODE_BASE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (data != (void *)HOSTCPU_DATA_BASE || text != (void *)HOSTCPU_CODE_BASE) _exit(121);
    memcpy(data, data_in, HOSTCPU_DATA_SIZE);
    hostcpu_child_setup(text, code, count, exec_signal);
    // Read and execute only, as softvmm's FlatMemory has it: a store there faults on both sides.
    if (mprotect(text, 4096, PROT_READ | PROT_EXEC) != 0) _exit(121);
    // POPFQ takes RFLAGS (with TF) from the qword below the instruction's RSP (in 32-bit
    // mode LRETQ's frame follows it), which must lie in the data pages; the first trap
    // puts the qwords back.
    uint64_t rsp = in->gpr[HOSTCPU_RSP];
    exec_bits = bits;
    frame_words = bits == 32 ? 3 : 1;
    if (rsp < HOSTCPU_DATA_BASE + 8 * (uint64_t)frame_words || rsp > HOSTCPU_DATA_BASE + HOSTCPU_DATA_SIZE) _exit(122);
    frame_address = rsp - 8 * (uint64_t)frame_words;
    uint64_t *frame = (uint64_t *)frame_address;
    memcpy(saved_frame, frame, (size_t)frame_words * 8);
    frame[0] = (in->rflags & 0xCD5) | 0x2 | 0x100;
    if (bits == 32) { frame[1] = HOSTCPU_CODE_BASE; frame[2] = EXEC_USER32_CS; }
    static uint64_t start_gprs[HOSTCPU_GPRS];
    memcpy(start_gprs, in->gpr, sizeof start_gprs);
    start_gprs[HOSTCPU_RSP] = frame_address;
    // The x87, MXCSR and XMM state first, while the C code may still use the stack (and
    // from here on, no floating point in C).
    static uint8_t fx[512] __attribute__((aligned(16)));
    memcpy(fx, in->fx, sizeof fx);
    __asm__ volatile("fxrstor64 (%0)" : : "r"(fx) : "memory");
    if (bits == 32) {
        uint16_t ds = EXEC_USER_DS;
        __asm__ volatile("mov %0, %%ds\n\t mov %0, %%es" : : "r"(ds));
    }
    __asm__ volatile(
        "mov 32(%%rax), %%rsp\n\t"
        "mov 8(%%rax), %%rcx\n\t mov 16(%%rax), %%rdx\n\t mov 24(%%rax), %%rbx\n\t"
        "mov 40(%%rax), %%rbp\n\t mov 48(%%rax), %%rsi\n\t mov 56(%%rax), %%rdi\n\t"
        "mov 64(%%rax), %%r8\n\t mov 72(%%rax), %%r9\n\t mov 80(%%rax), %%r10\n\t mov 88(%%rax), %%r11\n\t"
        "mov 96(%%rax), %%r12\n\t mov 104(%%rax), %%r13\n\t mov 112(%%rax), %%r14\n\t mov 120(%%rax), %%r15\n\t"
        "cmpl $32, exec_bits(%%rip)\n\t"
        "mov 0(%%rax), %%rax\n\t"
        "je 1f\n\t"
        "popfq\n\t"
        "jmp *exec_target(%%rip)\n"
        "1:\n\t"
        "popfq\n\t"
        "lretq\n\t"
        :
        : "a"(start_gprs)
        : "memory");
    __builtin_unreachable();
}

int hostcpu_execute(const uint8_t *code, size_t count, const struct hostcpu_state *in, const uint8_t *data_in,
                    struct hostcpu_state *out, uint8_t *data_out, struct hostcpu_result *result) {
    return hostcpu_execute_mode(code, count, 64, in, data_in, out, data_out, result);
}

int hostcpu_execute_mode(const uint8_t *code, size_t count, int bits, const struct hostcpu_state *in,
                         const uint8_t *data_in, struct hostcpu_state *out, uint8_t *data_out,
                         struct hostcpu_result *result) {
    if (count > 15) count = 15;
    if (bits != 32 && bits != 64) return -1;
    result->outcome = HOSTCPU_OTHER;
    result->length = 0;
    result->signal = 0;
    struct shared_out *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return -1;
    memset(shared, 0, sizeof *shared);
    pid_t pid = fork();
    if (pid < 0) { munmap(shared, sizeof *shared); return -1; }
    if (pid == 0) { out_page = shared; exec_child(code, count, bits, in, data_in); }
    int status = 0;
    int rc = waitpid(pid, &status, 0) < 0 ? -1 : 0;
    if (rc == 0 && shared->done) {
        *out = shared->state;
        memcpy(data_out, shared->data, HOSTCPU_DATA_SIZE);
        result->outcome = HOSTCPU_STEPPED;
        result->length = (int)(shared->state.rip - HOSTCPU_CODE_BASE);
    } else if (rc == 0 && shared->signal) {
        result->signal = shared->signal;
        result->length = shared->si_code;
        result->trapno = shared->trapno;
        out->rip = shared->state.rip;
        memcpy(out->fx, shared->state.fx, sizeof out->fx);
        switch (shared->signal) {
        case SIGILL: result->outcome = HOSTCPU_UNDEFINED; break;
        case SIGFPE: result->outcome = HOSTCPU_ARITH; break;
        default: result->outcome = HOSTCPU_FAULT; break;
        }
    } else if (rc == 0 && WIFEXITED(status)) {
        result->signal = -WEXITSTATUS(status);
    } else if (rc == 0 && WIFSIGNALED(status)) {
        // Killed before its handler could report (SIGALRM: the 2 s alarm ran out).
        result->signal = HOSTCPU_KILLED + WTERMSIG(status);
    }
    munmap(shared, sizeof *shared);
    return rc;
}

void hostcpu_vendor(char out[13]) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
    memcpy(out, &b, 4); memcpy(out + 4, &d, 4); memcpy(out + 8, &c, 4);
    out[12] = 0;
}

#else
void hostcpu_vendor(char out[13]) { memcpy(out, "unknown     ", 13); }
int hostcpu_execute(const uint8_t *code, size_t count, const struct hostcpu_state *in, const uint8_t *data_in,
                    struct hostcpu_state *out, uint8_t *data_out, struct hostcpu_result *result) {
    (void)code; (void)count; (void)in; (void)data_in; (void)out; (void)data_out;
    result->outcome = HOSTCPU_OTHER;
    return -1;
}
int hostcpu_execute_mode(const uint8_t *code, size_t count, int bits, const struct hostcpu_state *in,
                         const uint8_t *data_in, struct hostcpu_state *out, uint8_t *data_out,
                         struct hostcpu_result *result) {
    (void)bits;
    return hostcpu_execute(code, count, in, data_in, out, data_out, result);
}
#endif
