; The SMP fixture guest, for four CPUs (smp.options: --smp 4; expect.sh gives QEMU the
; -smp of smp.qemu-options). The bootstrap processor starts the three APs with INIT and
; STARTUP IPIs (all excluding self) at a real-mode trampoline it copies to 0x8000; each AP
; takes a stack, records its APIC ID, enables its local APIC, and then all three contend
; on a counter incremented by LOCK CMPXCHG and on one guarded by a spin lock (XCHG), while
; the BSP rewrites code AP 1 has run (AP 1 must run the new code). Then
; IPIs each way: a fixed IPI from the BSP to each AP by physical destination, answered by an
; IPI back (vector 0x50 + the AP's APIC ID: answers with one vector could merge in the IRR); a broadcast to all but self; a logical (flat model) destination naming two APs;
; an NMI to one AP; an IPI to an APIC ID no CPU has, and a STARTUP to running CPUs (both
; ignored). Everything printed is independent of how the CPUs interleave (QEMU runs them on
; host threads): counts and sets, never orders.
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

%include "multiboot.inc"

APIC        equ 0xFEE00000
TRAMPOLINE  equ 0x8000               ; the STARTUP vector 0x08's page
NAPS        equ 3
ROUNDS      equ 2000

%include "entry32.inc"

; icr DEST, LOW: sends an IPI (destination field, then the low word that sends it).
%macro icr 2
    mov dword [APIC + 0x310], %1
    mov dword [APIC + 0x300], %2
%endmacro

; wait_for VAR, N: spins (PAUSE) until the dword VAR is at least N.
%macro wait_for 2
%%spin:
    pause
    cmp dword [%1], %2
    jb %%spin
%endmacro

main:
    call idt_init
    gate 2, nmi_handler
    gate 0x40, ipi_to_ap
    gate 0x51, answer_1
    gate 0x52, answer_2
    gate 0x53, answer_3
    gate 0x42, broadcast_ipi
    gate 0x43, logical_ipi
    gate 0xFF, spurious
    mov al, 0xFF                      ; the 8259As stay out of the way
    out 0x21, al
    out 0xA1, al
    mov dword [APIC + 0xF0], 0x1FF    ; software enable, spurious vector 0xFF
    mov eax, [APIC + 0x20]
    shr eax, 24
    mov esi, msg_bsp_id
    call print_eax

    ; --- start the APs: INIT, then STARTUP (again if not all came) ---
    mov esi, trampoline
    mov edi, TRAMPOLINE
    mov ecx, trampoline_end - trampoline
    rep movsb
    icr 0, 0x000C4500                 ; all excluding self, INIT, level assert
    call delay_counter2
    icr 0, 0x000C4608                 ; all excluding self, STARTUP, vector 0x08
    call delay_counter2
    cmp dword [started], NAPS
    jae .all_started
    icr 0, 0x000C4608
.all_started:
    wait_for started, NAPS
    mov eax, [started]
    mov esi, msg_started
    call print_eax
    mov eax, [ap_ids]
    mov esi, msg_ap_ids
    call print_eax

    ; --- contention: LOCK CMPXCHG and a spin lock; AP 1's code rewritten under it ---
    mov dword [go], 1
    wait_for smc_stage, 1
    mov dword [patchable + 1], 2
    mov dword [smc_stage], 2
    wait_for finished, NAPS
    mov eax, [cas_counter]
    mov esi, msg_cas
    call print_eax
    mov eax, [locked_counter]
    mov esi, msg_locked
    call print_eax
    mov eax, [smc_before]
    mov esi, msg_smc_before
    call print_eax
    mov eax, [smc_after]
    mov esi, msg_smc_after
    call print_eax

    ; --- fixed IPIs to each AP by physical destination, each answered ---
    sti
    mov ebx, 1
.each_ap:
    mov eax, ebx
    shl eax, 24
    icr eax, 0x00004040               ; fixed, physical, vector 0x40
    inc ebx
    cmp ebx, NAPS
    jbe .each_ap
    wait_for bsp_hits, NAPS
    mov eax, [answer_ids]
    mov esi, msg_answers
    call print_eax
    mov eax, [ap_hit_ids]
    mov esi, msg_ap_hits
    call print_eax

    ; --- broadcast to all but self ---
    icr 0, 0x000C4042                 ; all excluding self, fixed, vector 0x42
    wait_for broadcast_hits, NAPS
    mov eax, [broadcast_hits]
    mov esi, msg_broadcast
    call print_eax

    ; --- logical destination, flat model: logical IDs 1 << APIC ID; 0x0A names APs 1 and 3 ---
    icr 0x0A000000, 0x00004843        ; fixed, logical, vector 0x43
    wait_for logical_hits, 2
    mov eax, [logical_ids]
    mov esi, msg_logical
    call print_eax

    ; --- an NMI to AP 2 ---
    icr 0x02000000, 0x00004400        ; NMI, physical
    wait_for nmi_hits, 1
    mov eax, [nmi_ids]
    mov esi, msg_nmi
    call print_eax

    ; --- an IPI to APIC ID 9 (no such CPU) and a STARTUP to the running APs: ignored ---
    icr 0x09000000, 0x00004040
    icr 0, 0x000C4608
    call delay_counter2
    mov eax, [ap_hit_count]
    mov esi, msg_after_nobody
    call print_eax
    mov eax, [started]
    mov esi, msg_started_again
    call print_eax

    mov esi, msg_done
    call print32
    mov al, 0
    out 0xF4, al
    hlt

; --- the APs ---

patchable:
    mov eax, 1
    ret

spin_lock:
    mov eax, 1
    xchg eax, [lock_word]
    test eax, eax
    jz .got
.busy:
    pause
    cmp dword [lock_word], 0
    jne .busy
    jmp spin_lock
.got:
    ret

ap_entry32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, 1
    lock xadd [ap_index], eax         ; 0, 1, 2: which stack
    shl eax, 12
    lea esp, [ap_stacks + eax + 4096]
    lidt [idt_ptr]
    mov ebx, [APIC + 0x20]
    shr ebx, 24
    lock bts [ap_ids], ebx
    mov dword [APIC + 0xF0], 0x1FF
    mov ecx, ebx                      ; LDR: logical ID 1 << APIC ID (flat model)
    mov eax, 1
    shl eax, cl
    shl eax, 24
    mov [APIC + 0xD0], eax
    lock inc dword [started]
    wait_for go, 1
    mov ecx, ROUNDS
.round:
    mov eax, [cas_counter]
.retry:
    lea edx, [eax + 1]
    lock cmpxchg [cas_counter], edx
    jne .retry
    call spin_lock
    mov eax, [locked_counter]         ; a plain read-modify-write, under the lock
    inc eax
    mov [locked_counter], eax
    mov dword [lock_word], 0
    dec ecx
    jnz .round
    ; Cross-modifying code: AP 1 runs `patchable` (200 times: warm enough for softvmm to
    ; translate it), the BSP rewrites its immediate, AP 1 runs it again after a serializing
    ; CPUID (SDM vol. 3, 8.1.3) and must see the new code.
    cmp ebx, 1
    jne .finish
    mov ecx, 200
.warm:
    call patchable
    dec ecx
    jnz .warm
    mov [smc_before], eax
    mov dword [smc_stage], 1
    wait_for smc_stage, 2
    xor eax, eax
    cpuid
    call patchable
    mov [smc_after], eax
.finish:
    lock inc dword [finished]
    sti
.idle:
    hlt
    jmp .idle

; Handlers (shared IDT): the APIC ID of the CPU taking the interrupt goes into a set.
ipi_to_ap:
    pushad
    mov ebx, [APIC + 0x20]
    shr ebx, 24
    lock bts [ap_hit_ids], ebx
    lock inc dword [ap_hit_count]
    lea eax, [ebx + 0x4050]           ; answer the BSP (APIC ID 0), vector 0x50 + APIC ID
    icr 0, eax
    mov dword [APIC + 0xB0], 0
    popad
    iret

; The BSP's handlers for the answers: which AP answered.
%macro answer 1
answer_%1:
    lock bts dword [answer_ids], %1
    lock inc dword [bsp_hits]
    mov dword [APIC + 0xB0], 0
    iret
%endmacro
answer 1
answer 2
answer 3

broadcast_ipi:
    lock inc dword [broadcast_hits]
    mov dword [APIC + 0xB0], 0
    iret

logical_ipi:
    push ebx
    mov ebx, [APIC + 0x20]
    shr ebx, 24
    lock bts [logical_ids], ebx
    lock inc dword [logical_hits]
    mov dword [APIC + 0xB0], 0
    pop ebx
    iret

nmi_handler:
    push ebx
    mov ebx, [APIC + 0x20]
    shr ebx, 24
    lock bts [nmi_ids], ebx
    lock inc dword [nmi_hits]
    pop ebx
    iret

spurious:
    iret

; The real-mode trampoline, copied to TRAMPOLINE (CS 0x0800, IP 0): the flat GDT, protected
; mode, then the 32-bit AP entry in this image.
bits 16
trampoline:
    cli
    xor ax, ax
    mov ds, ax
    lgdt [tramp_gdt_ptr - trampoline + TRAMPOLINE]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword 0x08:ap_entry32
tramp_gdt_ptr:
    dw 23
    dd entry_gdt
trampoline_end:
bits 32

%include "serial32.inc"
%include "pc32.inc"

msg_bsp_id:         db "BSP APIC ID: ", 0
msg_started:        db "APs started: ", 0
msg_ap_ids:         db "APIC IDs of the APs (set): ", 0
msg_cas:            db "LOCK CMPXCHG counter: ", 0
msg_locked:         db "spin-locked counter: ", 0
msg_smc_before:     db "AP 1 ran patchable code: ", 0
msg_smc_after:      db "AP 1 ran it after the BSP rewrote it: ", 0
msg_answers:        db "APs that answered the BSP (set): ", 0
msg_ap_hits:        db "APs that took a physical IPI (set): ", 0
msg_broadcast:      db "APs that took the broadcast: ", 0
msg_logical:        db "APs that took logical destination 0x0a (set): ", 0
msg_nmi:            db "APs that took the NMI (set): ", 0
msg_after_nobody:   db "physical IPIs taken after one to APIC ID 9: ", 0
msg_started_again:  db "APs started after a STARTUP to running CPUs: ", 0
msg_done:           db "smp: all checks ran", 10, 0

load_end:

section .bss
alignb 8
idt:            resb 256 * 8
alignb 4
ap_index:       resd 1
started:        resd 1
finished:       resd 1
go:             resd 1
ap_ids:         resd 1
cas_counter:    resd 1
locked_counter: resd 1
lock_word:      resd 1
smc_stage:      resd 1
smc_before:     resd 1
smc_after:      resd 1
bsp_hits:       resd 1
answer_ids:     resd 1
ap_hit_ids:     resd 1
ap_hit_count:   resd 1
broadcast_hits: resd 1
logical_ids:    resd 1
logical_hits:   resd 1
nmi_ids:        resd 1
nmi_hits:       resd 1
alignb 4096
ap_stacks:      resb NAPS * 4096
alignb 16
                resb 8192
stack_top:
bss_end:
