// The host CPU as an oracle: run one instruction natively, in a child
// process, and report what the hardware made of it.
#ifndef SOFTVMM_HOSTCPU_H
#define SOFTVMM_HOSTCPU_H
#include <stddef.h>
#include <stdint.h>

enum hostcpu_outcome {
    HOSTCPU_STEPPED = 0,   // executed; `length` is the distance to the next RIP
    HOSTCPU_UNDEFINED = 1, // #UD (SIGILL)
    HOSTCPU_FAULT = 2,     // decoded, then faulted (#GP/#PF/#SS: SIGSEGV or SIGBUS)
    HOSTCPU_ARITH = 3,     // #DE/#MF/#XM (SIGFPE)
    HOSTCPU_BRANCHED = 4,  // executed, and RIP left the instruction's 15 bytes
    HOSTCPU_OTHER = 5,     // anything else (the child died of another signal, or hung)
};

struct hostcpu_result {
    int outcome;
    int length;  // HOSTCPU_STEPPED only
    int signal;  // the signal that ended the child, when there was one
    int trapno;  // the exception vector the kernel reported with the signal (0 #DE, 16 #MF, 19 #XM, ...)
};

/// Runs `bytes` (at most 15) as one instruction with every general register
/// (rsp too) holding HOSTCPU_SCRATCH_MIDDLE's address: 0x1800 bytes below a
/// guard page, so [reg + 0x17fe] is the last word before it. Single-stepped with EFLAGS.TF. Returns 0, or
/// -1 when the child could not be started.
int hostcpu_probe(const uint8_t *bytes, size_t count, struct hostcpu_result *result);

/// The same in 64-bit (`bits` = 64) or 32-bit compatibility mode (`bits` = 32, the
/// registers then hold a scratch address below 2 GiB). Returns -1 for any other `bits`.
int hostcpu_probe_mode(const uint8_t *bytes, size_t count, int bits, struct hostcpu_result *result);

/// 64-bit only: as hostcpu_probe, but r8-r15 start with `high` (r11 excepted: it holds the
/// jump target), and when the instruction steps, `after` receives rax..r15 (in encoding
/// order) as they are after it. For telling apart same-length readings by their effect.
int hostcpu_probe_registers(const uint8_t *bytes, size_t count, const uint64_t high[8], uint64_t after[16],
                            struct hostcpu_result *result);

/// Where hostcpu_execute maps the data pages and the instruction (fixed, so that a
/// softvmm run can use the same addresses).
#define HOSTCPU_DATA_BASE 0x10000000ULL
#define HOSTCPU_DATA_SIZE 0x2000
#define HOSTCPU_CODE_BASE 0x20000000ULL

/// `signal` of a child killed before its handler reported: this plus the signal's number.
#define HOSTCPU_KILLED 1000

/// The general registers, by encoding number; RSP is number 4.
#define HOSTCPU_GPRS 16
#define HOSTCPU_RSP 4

/// The user-visible integer state around one instruction.
struct hostcpu_state {
    uint64_t gpr[HOSTCPU_GPRS];  // rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15
    uint64_t rflags;   // in: CF PF AF ZF SF TF-cleared DF OF are loaded; out: as the CPU left them (TF masked)
    uint64_t rip;      // out: where the instruction left RIP (or where it faulted)
    /// The x87, MXCSR and XMM state as FXSAVE lays it out (SDM vol. 1, 10.5.1): in, loaded
    /// with FXRSTOR (MXCSR's reserved bits must be clear); out, as the CPU left it (also
    /// after a SIGFPE, when the exception flags say what happened).
    uint8_t fx[512] __attribute__((aligned(16)));
};

/// Runs the instruction at HOSTCPU_CODE_BASE in a child process, from state `in` and
/// HOSTCPU_DATA_SIZE bytes of data at HOSTCPU_DATA_BASE (in->gpr[HOSTCPU_RSP] must point
/// into the data, at least 8 bytes above its start). When it steps, `out` and `data_out`
/// receive the state after it and the outcome is HOSTCPU_STEPPED (`length` is then RIP's
/// distance from the code base); a fault gives its outcome, `signal`, and in `length`
/// the signal's si_code, `trapno` the vector; after SIGFPE `out->fx` holds the FPU state
/// the fault left. Returns -1 if no child could be run.
int hostcpu_execute(const uint8_t *code, size_t count, const struct hostcpu_state *in, const uint8_t *data_in,
                    struct hostcpu_state *out, uint8_t *data_out, struct hostcpu_result *result);

/// The same in 64-bit (`bits` = 64) or 32-bit compatibility mode (`bits` = 32: Linux's
/// 32-bit user code segment, DS and ES its flat data segment; registers above bit 31 are
/// not meaningful afterwards). Returns -1 for any other `bits`.
int hostcpu_execute_mode(const uint8_t *code, size_t count, int bits, const struct hostcpu_state *in,
                         const uint8_t *data_in, struct hostcpu_state *out, uint8_t *data_out,
                         struct hostcpu_result *result);

/// The host's CPUID vendor string ("GenuineIntel", "AuthenticAMD"), NUL-terminated.
void hostcpu_vendor(char out[13]);

#endif
