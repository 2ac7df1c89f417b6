; The benchmark guest (issue 6): a Multiboot kernel that enters 64-bit mode with 4-level
; paging and runs one loop a known number of times, chosen by its command line:
;
;     NAME COUNT        (QEMU puts the kernel's file name in front; the last two words count)
;
;   reg    COUNT iterations of 8 register-only instructions (mov, lea, xor, shr, add, and,
;          dec, jnz)
;   sweep  COUNT sweeps over 64 MiB of 4 KiB pages (from 32 MiB), one load and one store per
;          page: 6 instructions per page, 16,384 pages, 4 more per sweep (98,308)
;   call   COUNT iterations of a recursion 30 calls deep (push, pop, call, ret; 251
;          instructions per iteration)
;   movs   COUNT copies of 1 MiB with REP MOVSB (6 instructions, 1 MiB per copy)
;   stos   COUNT fills of 1 MiB with REP STOSQ (6 instructions, 1 MiB per fill)
;   io     COUNT writes to port 0x80 (3 instructions, one port-I/O exit per write)
;   mul    COUNT iterations of integer arithmetic: a xorshift step, IMUL, MUL, ADD/ADC/SBB
;          and a branch on the xorshift's low bit (21 instructions either way)
;
; The instruction counts are exact: Benchmarks/run-guests.sh checks softvmm's against them.
; At the end the guest prints "NAME COUNT CHECKSUM" on COM1 (the same under softvmm and QEMU)
; and exits through port 0xf4 with code 0. Set-up before the loop and the report after it
; cost the same at every COUNT; the script times two counts and takes the difference.
;
; Memory: 128 MiB. The kernel and its tables below 2 MiB, the sweep area at 32-96 MiB mapped
; with 4 KiB pages (32 page tables), the rest of the first GiB with 2 MiB pages; the string
; buffers at 100 MiB (source) and 104 MiB (destination).
;
; Build: Benchmarks/guests/build.sh (nasm -f bin -i ../../Fixtures/guests/lib/)

bits 32
org 0x100000

SWEEP_BASE equ 32 << 20
SWEEP_END  equ 96 << 20
COPY_SRC   equ 100 << 20
COPY_DST   equ 104 << 20
COPY_SIZE  equ 1 << 20
DEPTH      equ 30

%include "multiboot.inc"

start:
    mov [mb_info], ebx
%include "longmode.inc"

bits 64
%include "serial64.inc"

long_start:
    ; The sweep area gets 4 KiB pages: page directory entries 16-47 point at page tables.
    mov rdi, sweep_tables
    mov rax, SWEEP_BASE | 3
    mov ecx, (SWEEP_END - SWEEP_BASE) >> 12
.pte:
    mov [rdi], rax
    add rdi, 8
    add rax, 4096
    dec ecx
    jnz .pte
    mov rdi, lm_pd + (SWEEP_BASE >> 21) * 8
    mov rax, sweep_tables + 3
    mov ecx, (SWEEP_END - SWEEP_BASE) >> 21
.pde:
    mov [rdi], rax
    add rdi, 8
    add rax, 4096
    dec ecx
    jnz .pde
    mov rax, cr3
    mov cr3, rax

    call parse_command_line        ; RBX = the name's first bytes, R15 = COUNT
    mov rsi, msg_unknown
    mov eax, ebx
    and eax, 0xFFFF
    cmp eax, 're'
    je bench_reg
    cmp eax, 'sw'
    je bench_sweep
    cmp eax, 'ca'
    je bench_call
    cmp eax, 'mo'
    je bench_movs
    cmp eax, 'st'
    je bench_stos
    cmp eax, 'io'
    je bench_io
    cmp eax, 'mu'
    je bench_mul
    call print64
    mov al, 1
    out 0xf4, al
    hlt

; The command line's last two words: the loop's name (EBX: its first four bytes) and COUNT
; in decimal (R15).
parse_command_line:
    mov esi, [mb_info]
    mov esi, [rsi + 16]
    mov rdi, rsi
.end:
    cmp byte [rdi], 0
    je .found_end
    inc rdi
    jmp .end
.found_end:
    dec rdi                          ; skip trailing spaces
    cmp rdi, rsi
    jb .bad
    cmp byte [rdi], ' '
    je .found_end
.digits:                             ; back to the start of the number
    cmp rdi, rsi
    je .number
    cmp byte [rdi - 1], ' '
    je .number
    dec rdi
    jmp .digits
.number:
    mov r8, rdi                      ; the number's first digit
    xor r15, r15
.digit:
    movzx eax, byte [rdi]
    sub eax, '0'
    cmp eax, 9
    ja .name
    imul r15, r15, 10
    add r15, rax
    inc rdi
    jmp .digit
.name:
    mov rdi, r8
.space:
    cmp rdi, rsi
    je .bad
    dec rdi
    cmp byte [rdi], ' '
    je .space
.word:                               ; back to the start of the name
    cmp rdi, rsi
    je .got
    cmp byte [rdi - 1], ' '
    je .got
    dec rdi
    jmp .word
.got:
    mov ebx, [rdi]
    ret
.bad:
    xor ebx, ebx
    ret

; Prints "NAME COUNT CHECKSUM" (the checksum in RAX) and exits with code 0.
report:
    push rax
    call print64                     ; RSI: the name and a space
    mov rax, r14                     ; COUNT
    call hex
    mov al, ' '
    call putc64
    pop rax
    call hex
    mov al, 10
    call putc64
    xor eax, eax
    out 0xf4, al
    hlt

; RAX as 16 hex digits, in the same number of instructions whatever the digits (serial64.inc's
; hex64 branches on each digit), so that the set-up and report cost the same at every COUNT.
hex:
    push rcx
    push rbx
    mov rbx, rax
    mov ecx, 16
.digit:
    rol rbx, 4
    mov eax, ebx
    and eax, 15
    mov al, [hex_digits + rax]
    call putc64
    dec ecx
    jnz .digit
    pop rbx
    pop rcx
    ret

bench_reg:
    mov r14, r15
    mov rcx, r15
    mov eax, 1
    mov edx, 2
    xor r9d, r9d
    mov r10, -1
    test rcx, rcx
    jz .done
.loop:
    mov r8, rax
    lea rax, [rax + rdx * 2 + 1]
    xor rdx, r8
    shr r8, 3
    add r9, r8
    and r10, rdx
    dec rcx
    jnz .loop
.done:
    add rax, r9
    xor rax, r10
    mov rsi, msg_reg
    jmp report

bench_sweep:
    mov r14, r15
    mov rcx, r15
    mov rdi, SWEEP_END
    xor edx, edx
    test rcx, rcx
    jz .done
.sweep:
    mov rsi, SWEEP_BASE
    inc rdx
.page:
    mov rax, [rsi]
    add rax, rdx
    mov [rsi + 8], rax
    add rsi, 4096
    cmp rsi, rdi
    jb .page
    dec rcx
    jnz .sweep
.done:
    mov rax, [SWEEP_BASE + 8]
    add rax, [SWEEP_END - 4096 + 8]
    mov rsi, msg_sweep
    jmp report

bench_call:
    mov r14, r15
    xor r13d, r13d
    test r15, r15
    jz .done
.loop:
    mov edi, DEPTH
    call recurse
    dec r15
    jnz .loop
.done:
    mov rax, r13
    mov rsi, msg_call
    jmp report

; recurse(EDI): 8 instructions per level and 7 at the bottom (R13 counts the bottoms).
recurse:
    push rbx
    mov ebx, edi
    test edi, edi
    jz .bottom
    lea edi, [rbx - 1]
    call recurse
    pop rbx
    ret
.bottom:
    inc r13
    pop rbx
    ret

bench_movs:
    mov r14, r15
    mov rdi, COPY_SRC                ; a pattern to copy
    mov ecx, COPY_SIZE / 8
    mov rax, 0x0123456789abcdef
.fill:
    mov [rdi], rax
    add rdi, 8
    rol rax, 1
    dec ecx
    jnz .fill
    cld
    test r15, r15
    jz .done
.loop:
    mov esi, COPY_SRC
    mov edi, COPY_DST
    mov ecx, COPY_SIZE
    rep movsb
    dec r15
    jnz .loop
.done:
    mov rax, [COPY_DST + COPY_SIZE - 8]
    add rax, [COPY_DST]
    mov rsi, msg_movs
    jmp report

bench_stos:
    mov r14, r15
    cld
    xor eax, eax
    test r15, r15
    jz .done
.loop:
    mov edi, COPY_DST
    mov ecx, COPY_SIZE / 8
    inc rax
    rep stosq
    dec r15
    jnz .loop
.done:
    mov rax, [COPY_DST + COPY_SIZE - 8]
    mov rsi, msg_stos
    jmp report

bench_io:
    mov r14, r15
    mov rcx, r15
    xor eax, eax
    test rcx, rcx
    jz .done
.loop:
    out 0x80, al
    dec rcx
    jnz .loop
.done:
    mov rax, r14
    mov rsi, msg_io
    jmp report

; The integer core the kernel's bignum and hash code leans on: a 64-bit xorshift state (R11)
; drives IMUL and MUL into an ADD/ADC/SBB chain, and its low bit picks one of two paths of the
; same length (the branch is taken about half the time, unpredictably).
bench_mul:
    mov r14, r15
    mov rcx, r15
    mov r11, 0x9E3779B97F4A7C15
    mov ebx, 1
    xor r9d, r9d
    xor r10d, r10d
    xor r12d, r12d
    xor r13d, r13d
    test rcx, rcx
    jz .done
.loop:
    mov rdx, r11                     ; x ^= x << 13; x ^= x >> 7; x ^= x << 17
    shl rdx, 13
    xor r11, rdx
    mov rdx, r11
    shr rdx, 7
    xor r11, rdx
    mov rdx, r11
    shl rdx, 17
    xor r11, rdx
    imul rbx, r11                    ; acc *= x
    mov rax, r11
    mul rbx                          ; RDX:RAX = x * acc
    add r9, rax
    adc r10, rdx
    sbb r12, r9
    test r11b, 1
    jz .even
    add r13, r11
    jmp .next
.even:
    sub r13, r11
    nop
.next:
    dec rcx
    jnz .loop
.done:
    mov rax, rbx
    xor rax, r9
    add rax, r10
    xor rax, r12
    add rax, r13
    mov rsi, msg_mul
    jmp report

hex_digits: db "0123456789abcdef"
msg_unknown: db "bench: the command line must end in NAME COUNT (reg, sweep, call, movs, stos, io or mul)", 10, 0
msg_reg:   db "reg ", 0
msg_mul:   db "mul ", 0
msg_sweep: db "sweep ", 0
msg_call:  db "call ", 0
msg_movs:  db "movs ", 0
msg_stos:  db "stos ", 0
msg_io:    db "io ", 0

load_end:

section .bss
alignb 4096
lm_pml4: resb 4096
lm_pdpt: resb 4096
lm_pd: resb 4096
sweep_tables: resb ((SWEEP_END - SWEEP_BASE) >> 12) * 8
mb_info: resd 1
alignb 16
resb 16384
stack_top:
bss_end:
