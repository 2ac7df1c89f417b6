; The MMIO fixture guest: every family of instruction forms with a memory operand, run
; against a window at T = 0x3F00000 and its next page. In softvmm the window is the test
; device (mmio.options puts it there): each access leaves the CPU as an MMIO-assist exit,
; and the monitor emulates the instruction against the device, which stores what is
; written and reads it back. In QEMU the same addresses are plain RAM, so QEMU's output is
; what a correct MMIO emulation must produce. Each check prints RAX and the flags.
;
; Build: Fixtures/guests/build.sh

%include "show.mac"

; Clears flags the SDM leaves undefined after the instruction before (CF 1, PF 4, AF 0x10,
; ZF 0x40, SF 0x80, OF 0x800), so the check compares only what is architectural.
%macro undefined 1
    pushfq
    and qword [rsp], ~(%1)
    popfq
%endmacro

bits 32
org 0x100000

T        equ 0x3F00000           ; the test window (two pages)
R        equ 0x300000            ; a RAM buffer

%include "multiboot.inc"

start:
%include "longmode.inc"

long_start:
    cld
    ; --- MOV: stores and loads of every size, immediates, sign and zero extension ---
    mov rax, 0x1122334455667788
    mov [T], rax
    mov rax, [T]
    show "mov store/load 64"
    mov dword [T + 8], 0xCAFEBABE
    mov eax, [T + 8]
    show "mov imm32 store, 32-bit load"
    mov word [T + 16], 0xBEEF
    mov ax, [T + 16]
    show "mov imm16 store, 16-bit load"
    mov byte [T + 18], 0x7F
    movzx eax, byte [T + 18]
    show "mov imm8, movzx byte"
    mov qword [T + 24], -5
    mov rax, [T + 24]
    show "mov simm32 to qword"
    movsx rax, word [T + 16]
    show "movsx word"
    movsxd rax, dword [T + 8]
    show "movsxd"
    mov al, [T + 1]
    show "mov al, byte at offset 1"
    mov [T + 3], ah
    mov rax, [T]
    show "mov [m], ah"

    ; --- ALU with memory destination and source ---
    mov qword [T + 32], 100
    add qword [T + 32], 23
    mov rax, [T + 32]
    show "add m64, imm"
    mov rbx, 0x8000000000000000
    mov [T + 40], rbx
    add [T + 40], rbx
    mov rax, [T + 40]
    show "add m64, r64 (carry, overflow)"
    stc
    adc dword [T + 32], 0x10
    mov eax, [T + 32]
    show "adc m32, imm"
    stc
    sbb word [T + 32], 0x200
    mov rax, [T + 32]
    show "sbb m16, imm"
    or byte [T + 32], 0x80
    undefined 0x10
    mov rax, [T + 32]
    show "or m8, imm"
    and dword [T + 32], 0xFF0F
    undefined 0x10
    mov rax, [T + 32]
    show "and m32, imm"
    xor qword [T + 32], rbx
    undefined 0x10
    mov rax, [T + 32]
    show "xor m64, r64"
    sub qword [T + 32], 1
    mov rax, [T + 32]
    show "sub m64, 1"
    mov rax, 5
    sub rax, [T + 32]
    show "sub r64, m64"
    cmp dword [T + 8], 0xCAFEBABE
    show "cmp m32, imm (equal)"
    mov ecx, 0x12345678
    cmp ecx, [T + 8]
    show "cmp r32, m32"
    test byte [T + 18], 0x80
    undefined 0x10
    show "test m8, imm"
    test [T], rbx
    undefined 0x10
    show "test m64, r64"

    ; --- unary, shifts and rotates on memory ---
    mov qword [T + 48], 0x7FFFFFFF
    inc dword [T + 48]
    mov rax, [T + 48]
    show "inc m32 (overflow)"
    dec qword [T + 48]
    mov rax, [T + 48]
    show "dec m64"
    neg word [T + 48]
    mov rax, [T + 48]
    show "neg m16"
    not qword [T + 48]
    mov rax, [T + 48]
    show "not m64"
    mov qword [T + 56], 0x81
    shl byte [T + 56], 1
    undefined 0x10
    mov rax, [T + 56]
    show "shl m8, 1"
    mov rax, 0x8000000000000001
    mov [T + 56], rax
    ror qword [T + 56], 4
    undefined 0x800
    mov rax, [T + 56]
    show "ror m64, 4"
    mov cl, 3
    sar dword [T + 56], cl
    undefined 0x810
    mov rax, [T + 56]
    show "sar m32, cl"
    stc
    rcl word [T + 56], 1
    mov rax, [T + 56]
    show "rcl m16, 1"
    shld [T + 56], rbx, 8
    undefined 0x810
    mov rax, [T + 56]
    show "shld m64, r64, 8"

    ; --- bit tests (a register offset reaches beyond the operand) ---
    mov qword [T + 64], 0
    mov qword [T + 72], 0
    mov rax, 100
    bts [T + 64], rax
    undefined 0x8D4
    mov rax, [T + 72]
    show "bts m64, r64=100 (sets bit 36 of the next qword)"
    bt qword [T + 72], 36
    undefined 0x8D4
    show "bt m64, imm"
    btr qword [T + 72], 36
    undefined 0x8D4
    mov rax, [T + 72]
    show "btr m64, imm"
    mov eax, 5
    btc [T + 64], eax
    undefined 0x8D4
    mov rax, [T + 64]
    show "btc m32, r32"

    ; --- exchanges ---
    mov qword [T + 80], 0xAAAA
    mov rax, 0xBBBB
    xchg [T + 80], rax
    show "xchg: old value"
    mov rax, [T + 80]
    show "xchg: new value"
    mov rax, 0xBBBB
    mov rcx, 0xCCCC
    lock cmpxchg [T + 80], rcx
    mov rax, [T + 80]
    show "cmpxchg (equal: stores)"
    mov rax, 1
    cmpxchg [T + 80], rcx
    show "cmpxchg (not equal: loads)"
    mov rax, 0x10
    lock xadd [T + 80], rax
    show "xadd: old"
    mov rax, [T + 80]
    show "xadd: new"
    mov qword [T + 96], 1
    mov qword [T + 104], 2
    mov rax, 1
    mov rdx, 2
    mov rbx, 0x33
    mov rcx, 0x44
    cmpxchg16b [T + 96]
    mov rax, [T + 104]
    show "cmpxchg16b: high qword"
    mov eax, 0x33
    xor edx, edx
    mov ebx, 0x55
    xor ecx, ecx
    cmpxchg8b [T + 96]
    mov rax, [T + 96]
    show "cmpxchg8b"

    ; --- multiply, divide, conditional forms ---
    mov qword [T + 112], 7
    mov rax, 6
    imul rax, [T + 112]
    undefined 0xD4
    show "imul r64, m64"
    mov rax, 0x100000000
    mul qword [T + 112]
    undefined 0xD4
    show "mul m64 (rax)"
    mov rax, rdx
    show "mul m64 (rdx)"
    mov rax, 100
    xor edx, edx
    div qword [T + 112]
    undefined 0x8D5
    show "div m64 (quotient)"
    mov rax, rdx
    show "div m64 (remainder)"
    xor eax, eax
    cmp eax, 1
    setb [T + 120]
    setz [T + 121]
    mov rax, [T + 120]
    show "setb, setz m8"
    mov rax, 1
    cmp rax, 0
    cmovne rax, [T + 112]
    show "cmovne r64, m64"

    ; --- stack operands ---
    push qword [T + 112]
    pop rax
    show "push m64"
    push 0x5A5A
    pop qword [T + 128]
    mov rax, [T + 128]
    show "pop m64"

    ; --- bit counting and byte swaps ---
    mov qword [T + 136], 0xF0F0
    popcnt rax, [T + 136]
    show "popcnt m64"
    tzcnt rax, [T + 136]
    undefined 0x894
    show "tzcnt m64"
    lzcnt rax, [T + 136]
    undefined 0x894
    show "lzcnt m64"
    movbe rax, [T + 136]
    show "movbe load"
    mov rax, 0x0102030405060708
    movbe [T + 136], rax
    mov rax, [T + 136]
    show "movbe store"
    mov rax, 0xFF
    andn rax, rax, [T + 136]
    undefined 0x14
    show "andn r64, r64, m64"
    xor eax, eax
    crc32 eax, byte [T + 136]
    show "crc32 m8"

    ; --- a branch through a pointer in MMIO, a segment base ---
    mov rax, .target
    mov [T + 144], rax
    jmp [T + 144]
    mov rax, 0xBAD
.target:
    mov rax, 0x600D
    show "jmp through m64"
    mov rax, .ret
    mov [T + 152], rax
    call [T + 152]
.ret_back:
    jmp .after_call
.ret:
    pop rax
    sub rax, .ret_back
    show "call through m64 (return address - label)"
    jmp .ret_back
.after_call:
    mov ecx, 0xC0000100           ; FS base = T
    mov eax, T
    xor edx, edx
    wrmsr
    mov rax, [fs:0x10]
    show "fs:[0x10] with FS base T"
    mov rbx, T + 0x100
    mov byte [T + 0x105], 0x44
    mov al, 5
    xlatb
    show "xlat"

    ; --- strings: RAM to MMIO, MMIO to RAM, MMIO to MMIO, with REP ---
    mov rdi, R
    mov rcx, 64
    mov al, 0
.fill:
    stosb
    inc al
    loop .fill
    mov rsi, R
    mov rdi, T + 0x200
    mov rcx, 64
    rep movsb
    mov rax, [T + 0x238]
    show "rep movsb RAM -> MMIO"
    mov rsi, T + 0x200
    mov rdi, T + 0x300
    mov rcx, 8
    rep movsq
    mov rax, [T + 0x330]
    show "rep movsq MMIO -> MMIO"
    mov rax, rdi
    show "rdi after"
    mov rsi, T + 0x300
    mov rdi, R + 0x100
    mov rcx, 16
    rep movsd
    mov rax, [R + 0x120]
    show "rep movsd MMIO -> RAM"
    mov rdi, T + 0x400
    mov rax, 0x5555AAAA5555AAAA
    mov rcx, 4
    rep stosq
    mov rax, [T + 0x418]
    show "rep stosq to MMIO"
    std
    mov rdi, T + 0x41F
    mov al, 0x77
    mov rcx, 8
    rep stosb
    cld
    mov rax, [T + 0x418]
    show "rep stosb backwards"
    mov rsi, T + 0x208
    lodsq
    show "lodsq from MMIO"
    mov rax, rsi
    show "rsi after lodsq"
    mov rsi, R
    mov rdi, T + 0x200
    mov rcx, 64
    repe cmpsb
    mov rax, rcx
    show "repe cmpsb (equal run), rcx"
    mov byte [T + 0x210], 0xEE
    mov rsi, R
    mov rdi, T + 0x200
    mov rcx, 64
    repe cmpsb
    mov rax, rcx
    show "repe cmpsb stops at the difference, rcx"
    mov rdi, T + 0x200
    mov al, 0x20
    mov rcx, 64
    repne scasb
    mov rax, rdi
    show "repne scasb, rdi"

    ; --- SSE and x87 operands ---
    mov rax, 0x0F0E0D0C0B0A0908
    mov [R + 0x200], rax
    mov rax, 0x0706050403020100
    mov [R + 0x208], rax
    movdqu xmm0, [R + 0x200]
    movdqu [T + 0x500], xmm0
    movdqa xmm1, [T + 0x500]
    movq rax, xmm1
    show "movdqu store, movdqa load (low)"
    pextrq rax, xmm1, 1
    show "movdqa load (high)"
    movaps [T + 0x510], xmm1
    movups xmm2, [T + 0x508]
    movq rax, xmm2
    show "movaps store, movups load at +8"
    movd xmm3, [T + 0x500]
    movq rax, xmm3
    show "movd load"
    movq [T + 0x520], xmm1
    mov rax, [T + 0x520]
    show "movq store"
    movss xmm4, [T + 0x504]
    movq rax, xmm4
    show "movss load"
    movhps xmm4, [T + 0x500]
    pextrq rax, xmm4, 1
    show "movhps load"
    pxor xmm5, xmm5
    paddb xmm5, [T + 0x500]
    pextrq rax, xmm5, 1
    show "paddb xmm, m128"
    pinsrw xmm5, [T + 0x502], 7
    pextrq rax, xmm5, 1
    show "pinsrw from m16"
    pextrw [T + 0x530], xmm5, 7
    mov rax, [T + 0x530]
    show "pextrw to m16"
    mov rax, 0x4010000000000000   ; 4.0
    mov [T + 0x540], rax
    fld qword [T + 0x540]
    fsqrt
    fstp qword [T + 0x548]
    mov rax, [T + 0x548]
    show "fld, fstp m64 (sqrt 4)"
    fild dword [T + 8]
    fistp qword [T + 0x550]
    mov rax, [T + 0x550]
    show "fild m32, fistp m64"

    ; --- a cross-page access inside the window ---
    mov rax, 0xA1A2A3A4A5A6A7A8
    mov [T + 0xFFC], rax
    mov rax, [T + 0xFFC]
    show "8 bytes across the window's two pages"
    mov eax, [T + 0x1000]
    show "the second page's first dword"

    mov rsi, msg_done
    call print64
    mov al, 0
    out 0xF4, al
    hlt

msg_done: db "mmio: all checks ran", 10, 0

%include "show.inc"
%include "serial64.inc"

load_end:

section .bss align=4096
lm_pml4: resb 4096
lm_pdpt: resb 4096
lm_pd: resb 4096
resb 8192
stack_top:
bss_end:
