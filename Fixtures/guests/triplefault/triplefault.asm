; The triple-fault fixture guest (32-bit protected mode): a #UD whose gate is invalid becomes
; a #GP, whose gate is invalid too: two contributory faults make a double fault, which its
; handler reports. Then, with an empty IDT, a #UD escalates to #GP, #DF and a triple fault:
; the CPU shuts down (QEMU with -no-reboot exits with status 0; so does softvmm run).
;
; Build: Fixtures/guests/build.sh

bits 32
org 0x100000

%include "multiboot.inc"

start:
    cli
    mov esp, stack_top
    lgdt [gdt_ptr]
    jmp 0x08:.reload
.reload:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; Only vector 8 has a gate (a 32-bit interrupt gate to double_fault).
    mov eax, double_fault
    mov word [idt + 8 * 8], ax
    mov word [idt + 8 * 8 + 2], 0x08
    mov word [idt + 8 * 8 + 4], 0x8E00
    shr eax, 16
    mov word [idt + 8 * 8 + 6], ax
    lidt [idt_ptr]
    mov esi, msg_start
    call print32
    ud2
    mov esi, msg_wrong
    call print32
    jmp finish

double_fault:
    mov esi, msg_df
    call print32
    pop eax                       ; the error code (0)
    call hex32
    mov al, 10
    call putc32
    mov esi, msg_next
    call print32
    lidt [empty_idt]
    ud2                           ; #UD -> #GP (beyond the limit) -> #DF -> shutdown
    mov esi, msg_wrong
    call print32
finish:
    mov al, 1
    out 0xF4, al
    hlt

%include "serial32.inc"

align 8
gdt:
    dq 0
    dq 0x00CF9B000000FFFF
    dq 0x00CF93000000FFFF
gdt_ptr:
    dw 23
    dd gdt
idt_ptr:
    dw 32 * 8 - 1
    dd idt
empty_idt:
    dw 0
    dd 0
msg_start: db "ud2 with no #UD or #GP gate", 10, 0
msg_df: db "double fault, error code ", 0
msg_next: db "empty IDT, ud2: a triple fault shuts the machine down", 10, 0
msg_wrong: db "not reached", 10, 0

load_end:
section .bss align=4096
idt: resb 4096
resb 4096
stack_top:
bss_end:
