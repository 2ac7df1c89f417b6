; The APIC fixture guest: the local APIC (xAPIC registers, self-IPIs, task priority, EOI,
; the timer in one-shot and periodic modes, and the TSC-deadline timer and x2APIC when CPUID
; reports them) and the IOAPIC routing the PIT's IRQ 0 (pin 2) as an edge-triggered and as a
; level-triggered interrupt. Each check prints one line on COM1; QEMU's TCG output is the
; expectation (apic.expected). Nothing printed depends on how fast time passes.
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

%include "multiboot.inc"

APIC    equ 0xFEE00000
IOAPIC  equ 0xFEC00000

%include "entry32.inc"

main:
    ; IDT: vectors 0x40-0x6f count into `hits` (by vector) and remember the ISR word they
    ; saw; 0xFF is the spurious vector; everything else is unexpected.
    call idt_init
    mov ecx, 0x40
.handlers:
    mov eax, ecx
    sub eax, 0x40
    shl eax, 3
    add eax, handlers
    call idt_set
    inc ecx
    cmp ecx, 0x70
    jb .handlers
    gate 13, gp
    gate 0xFF, spurious
    ; The 8259As stay out of the way.
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al

    ; --- what CPUID and the firmware say ---
    mov eax, 1
    cpuid
    mov eax, edx
    and eax, 1 << 9
    mov esi, msg_cpuid_apic
    call print_eax
    mov eax, 6
    cpuid
    and eax, 1 << 2
    mov esi, msg_arat
    call print_eax
    mov ecx, 0x1B
    rdmsr
    mov esi, msg_apic_base
    call print_eax
    mov eax, [APIC + 0x20]
    mov esi, msg_id
    call print_eax
    mov eax, [APIC + 0x30]
    mov esi, msg_version
    call print_eax
    mov eax, [APIC + 0xF0]
    mov esi, msg_svr
    call print_eax
    mov eax, [APIC + 0x350]
    mov esi, msg_lint0
    call print_eax
    mov eax, [APIC + 0x360]
    mov esi, msg_lint1
    call print_eax

    ; --- self-IPI: pending in IRR while IF is clear, in service in the handler ---
    mov dword [APIC + 0x80], 0        ; TPR
    mov dword [APIC + 0x310], 0
    mov dword [APIC + 0x300], 0x40040 ; self, fixed, vector 0x40
    mov eax, [APIC + 0x220]           ; IRR 0x40-0x5f
    and eax, 1
    mov esi, msg_irr40
    call print_eax
    sti
    nop
    cli
    movzx eax, byte [hits + 0]
    mov esi, msg_hits40
    call print_eax
    mov eax, [isr_seen]
    mov esi, msg_isr40
    call print_eax
    mov eax, [APIC + 0x120]
    mov esi, msg_isr_after
    call print_eax

    ; --- the task priority holds back a lower class ---
    mov dword [APIC + 0x80], 0x50
    mov dword [APIC + 0x300], 0x40045 ; vector 0x45: class 4, below the TPR's 5
    sti
    nop
    nop
    cli
    movzx eax, byte [hits + 5]
    mov esi, msg_blocked
    call print_eax
    mov eax, [APIC + 0xA0]
    mov esi, msg_ppr
    call print_eax
    mov dword [APIC + 0x80], 0x40     ; still class 4: blocked
    sti
    nop
    cli
    movzx eax, byte [hits + 5]
    mov esi, msg_blocked
    call print_eax
    mov dword [APIC + 0x80], 0x30
    sti
    nop
    cli
    movzx eax, byte [hits + 5]
    mov esi, msg_unblocked
    call print_eax
    mov dword [APIC + 0x80], 0

    ; --- two requests: the higher vector first ---
    mov byte [order_n], 0
    mov dword [APIC + 0x300], 0x40048
    mov dword [APIC + 0x300], 0x40068
    sti
    nop
    nop
    cli
    mov eax, [order]
    mov esi, msg_order
    call print_eax

    ; --- timer, one-shot ---
    mov dword [APIC + 0x3E0], 0x3     ; divide by 16
    mov dword [APIC + 0x320], 0x50    ; one-shot, vector 0x50
    mov dword [APIC + 0x380], 20000
    sti
.wait_oneshot:
    hlt
    cmp byte [hits + 0x10], 1
    jb .wait_oneshot
    cli
    call delay_counter2
    movzx eax, byte [hits + 0x10]
    mov esi, msg_oneshot
    call print_eax
    mov eax, [APIC + 0x390]
    mov esi, msg_current
    call print_eax

    ; --- timer, periodic ---
    mov dword [APIC + 0x320], 0x20051 ; periodic, vector 0x51
    mov dword [APIC + 0x380], 20000
    sti
.wait_periodic:
    hlt
    cmp byte [hits + 0x11], 3
    jb .wait_periodic
    cli
    mov dword [APIC + 0x380], 0       ; a zero initial count stops it
    movzx eax, byte [hits + 0x11]
    mov esi, msg_periodic
    call print_eax
    mov eax, [APIC + 0x320]
    mov esi, msg_lvt_timer
    call print_eax
    ; Masked: the timer runs out without an interrupt.
    mov dword [APIC + 0x320], 0x10052
    mov dword [APIC + 0x380], 1000
    sti
    call delay_counter2
    cli
    movzx eax, byte [hits + 0x12]
    mov esi, msg_masked
    call print_eax

    ; --- TSC-deadline timer (when CPUID reports it) ---
    mov eax, 1
    cpuid
    test ecx, 1 << 24
    jz .no_deadline
    mov dword [APIC + 0x320], 0x40053 ; TSC-deadline, vector 0x53
    rdtsc
    add eax, 1000000
    adc edx, 0
    mov ecx, 0x6E0
    wrmsr
    sti
.wait_deadline:
    hlt
    cmp byte [hits + 0x13], 1
    jb .wait_deadline
    cli
    mov ecx, 0x6E0
    rdmsr
    mov esi, msg_deadline
    call print_eax
    mov dword [APIC + 0x320], 0x10000
.no_deadline:

    ; --- IOAPIC: the PIT's IRQ 0 on pin 2 ---
    mov dword [IOAPIC], 1
    mov eax, [IOAPIC + 0x10]
    mov esi, msg_ioapic_version
    call print_eax
    mov dword [IOAPIC], 0x10 + 2 * 2
    mov eax, [IOAPIC + 0x10]
    mov esi, msg_pin2_reset
    call print_eax
    mov dword [IOAPIC], 0x10 + 2 * 2 + 1
    mov dword [IOAPIC + 0x10], 0      ; destination: APIC 0
    mov dword [IOAPIC], 0x10 + 2 * 2
    mov dword [IOAPIC + 0x10], 0x60   ; fixed, edge, vector 0x60, unmasked
    mov al, 0x34                      ; PIT counter 0, mode 2, 100 Hz
    out 0x43, al
    mov ax, 11932
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti
.wait_pit:
    hlt
    cmp byte [hits + 0x20], 3
    jb .wait_pit
    cli
    mov dword [IOAPIC + 0x10], 0x10060 ; masked
    movzx eax, byte [hits + 0x20]
    mov esi, msg_pit_edge
    call print_eax
    mov eax, [APIC + 0x1B0]           ; TMR 0x60-0x7f: edge
    and eax, 1
    mov esi, msg_tmr_edge
    call print_eax

    ; --- level-triggered: remote IRR holds until the EOI ---
    mov dword [IOAPIC + 0x10], 0x18061 ; level, vector 0x61, masked while the line rises
    mov al, 0x30                      ; counter 0, mode 0: OUT goes high and stays high
    out 0x43, al
    mov ax, 1193
    out 0x40, al
    mov al, ah
    out 0x40, al
    call delay_counter2               ; OUT is high now
    mov dword [IOAPIC + 0x10], 0x8061 ; unmasked: the line is high, it fires at once
    mov byte [no_eoi], 1
    sti
    nop
    cli
    movzx eax, byte [hits + 0x21]
    mov esi, msg_level_taken
    call print_eax
    mov eax, [IOAPIC + 0x10]
    and eax, 1 << 14
    mov esi, msg_remote_irr
    call print_eax
    mov eax, [APIC + 0x1B0]
    and eax, 2
    mov esi, msg_tmr_level
    call print_eax
    mov dword [APIC + 0xB0], 0        ; EOI: remote IRR clears, the pin is still high: again
    sti
    nop
    cli
    movzx eax, byte [hits + 0x21]
    mov esi, msg_level_again
    call print_eax
    mov dword [IOAPIC + 0x10], 0x18061 ; masked
    mov dword [APIC + 0xB0], 0
    mov byte [no_eoi], 0

    ; --- x2APIC (when CPUID reports it) ---
    mov eax, 1
    cpuid
    test ecx, 1 << 21
    jz .no_x2apic
    mov ecx, 0x1B
    rdmsr
    or eax, 1 << 10
    wrmsr
    mov ecx, 0x802
    rdmsr
    mov esi, msg_x2_id
    call print_eax
    mov ecx, 0x83F                    ; SELF IPI
    mov eax, 0x42
    xor edx, edx
    wrmsr
    sti
    nop
    cli
    movzx eax, byte [hits + 2]
    mov esi, msg_x2_self
    call print_eax
    mov dword [resume], .x1
    mov ecx, 0x80B                    ; EOI is write-only: #GP
    rdmsr
.x1:
    mov dword [resume], .x2
    mov ecx, 0x1B                     ; x2APIC straight back to xAPIC: #GP
    rdmsr
    and eax, ~(1 << 10)
    wrmsr
.x2:
.no_x2apic:

    mov esi, msg_done
    call print32
    mov al, 0
    out 0xF4, al
    hlt

; Vectors 0x40-0x6f: count, record the order and the ISR word of the vector, EOI (unless
; `no_eoi`).
%macro handler 1
    push eax
    mov al, %1 - 0x40
    jmp vector_common
    align 8
%endmacro
align 8
handlers:
%assign v 0x40
%rep 0x30
    handler v
%assign v v + 1
%endrep

vector_common:
    push ebx
    push ecx
    movzx ebx, al
    inc byte [hits + ebx]
    movzx ecx, byte [order_n]
    cmp ecx, 4
    jae .no_order
    lea eax, [ebx + 0x40]
    mov [order + ecx], al
    inc byte [order_n]
.no_order:
    lea ecx, [ebx + 0x40]
    shr ecx, 5
    shl ecx, 4
    mov eax, [APIC + 0x100 + ecx]
    mov [isr_seen], eax
    cmp byte [no_eoi], 0
    jne .skip_eoi
    mov dword [APIC + 0xB0], 0
.skip_eoi:
    pop ecx
    pop ebx
    pop eax
    iretd

spurious:
    push esi
    mov esi, msg_spurious
    call print32
    pop esi
    iretd

; #GP from the x2APIC checks (vector 13 has an error code): print and resume.
gp:
    add esp, 4
    push esi
    mov esi, msg_gp
    call print32
    pop esi
    push eax
    mov eax, [resume]
    mov [esp + 4], eax
    pop eax
    iretd

%include "serial32.inc"
%include "pc32.inc"


msg_cpuid_apic:     db "CPUID APIC: ", 0
msg_arat:           db "CPUID ARAT: ", 0
msg_apic_base:      db "IA32_APIC_BASE: ", 0
msg_id:             db "APIC ID: ", 0
msg_version:        db "APIC version: ", 0
msg_svr:            db "SVR at entry: ", 0
msg_lint0:          db "LINT0 at entry: ", 0
msg_lint1:          db "LINT1 at entry: ", 0
msg_irr40:          db "self-IPI 0x40 in IRR with IF clear: ", 0
msg_hits40:         db "vector 0x40 taken: ", 0
msg_isr40:          db "ISR word 0x40-0x5f in the handler: ", 0
msg_isr_after:      db "ISR word after EOI: ", 0
msg_blocked:        db "vector 0x45 taken under a higher TPR: ", 0
msg_ppr:            db "PPR: ", 0
msg_unblocked:      db "vector 0x45 taken after lowering the TPR: ", 0
msg_order:          db "order of vectors 0x48 and 0x68: ", 0
msg_oneshot:        db "one-shot timer interrupts: ", 0
msg_current:        db "current count after it ran out: ", 0
msg_periodic:       db "periodic timer interrupts: ", 0
msg_lvt_timer:      db "LVT timer: ", 0
msg_masked:         db "masked timer interrupts: ", 0
msg_deadline:       db "TSC deadline after it fired: ", 0
msg_ioapic_version: db "IOAPIC version register: ", 0
msg_pin2_reset:     db "IOAPIC pin 2 at reset: ", 0
msg_pit_edge:       db "PIT interrupts through IOAPIC pin 2: ", 0
msg_tmr_edge:       db "TMR bit for the edge vector: ", 0
msg_level_taken:    db "level-triggered vector taken: ", 0
msg_remote_irr:     db "remote IRR before the EOI: ", 0
msg_tmr_level:      db "TMR bit for the level vector: ", 0
msg_level_again:    db "taken again after the EOI (pin still high): ", 0
msg_x2_id:          db "x2APIC ID: ", 0
msg_x2_self:        db "x2APIC self-IPI taken: ", 0
msg_gp:             db "#GP", 10, 0
msg_done:           db "apic: all checks ran", 10, 0
msg_spurious:       db "spurious vector", 10, 0

load_end:

section .bss
alignb 8
idt:        resb 256 * 8
hits:       resb 0x30
order:      resd 1
order_n:    resb 1
no_eoi:     resb 1
alignb 4
isr_seen:   resd 1
resume:     resd 1
alignb 16
            resb 8192
stack_top:
bss_end:
