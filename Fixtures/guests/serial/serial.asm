; The serial fixture guest: the 16550A's interrupts on IRQ 4, through the 8259A and then
; through the IOAPIC. Received bytes (serial.input, fed to COM1 from the start) raise the
; received-data interrupt; the handler reads them while LSR says data is ready. Enabling
; the transmitter-empty interrupt with THR empty raises it at once, and reading IIR ends it.
; QEMU's TCG output is the expectation; nothing printed depends on when bytes arrive.
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

%include "multiboot.inc"
%include "entry32.inc"

IOAPIC  equ 0xFEC00000
APIC    equ 0xFEE00000

main:
    call idt_init
    gate 0x24, com1_irq
    gate 0x64, com1_irq
    mov al, 0x01
    call pic_init
    mov al, 0xEF                      ; IRQ 4 only
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al

    ; --- THR empty: raised when enabled with THR empty, ended by reading IIR ---
    mov dx, 0x3FA
    xor al, al                        ; FIFOs off
    out dx, al
    mov dx, 0x3FC
    mov al, 0x0B                      ; DTR, RTS, OUT2
    out dx, al
    mov byte [mode], 1
    mov dx, 0x3F9
    mov al, 0x02
    out dx, al
    sti
    nop
    cli
    mov dx, 0x3F9
    xor al, al
    out dx, al
    movzx eax, byte [thre_iir]
    mov esi, msg_thre
    call print_eax
    mov eax, [irqs]
    mov esi, msg_thre_count
    call print_eax

    ; --- received data through the 8259A ---
    mov byte [mode], 0
    mov dword [count], 0
    mov dx, 0x3F9
    mov al, 0x01
    out dx, al
    sti
.wait_pic:
    hlt
    cmp dword [count], 8
    jb .wait_pic
    cli

    ; --- the rest through the IOAPIC (pin 4), the 8259A masked ---
    mov al, 0xFF
    out 0x21, al
    mov dword [IOAPIC], 0x10 + 4 * 2 + 1
    mov dword [IOAPIC + 0x10], 0
    mov dword [IOAPIC], 0x10 + 4 * 2
    mov dword [IOAPIC + 0x10], 0x64   ; edge, vector 0x64
    mov byte [ioapic_mode], 1
    ; A byte already waiting raised the line before the pin listened: read it, so the
    ; next one's arrival is a new edge.
    mov dx, 0x3FD
    in al, dx
    test al, 1
    jz .nothing_waiting
    mov dx, 0x3F8
    in al, dx
    mov ecx, [count]
    mov [buffer + ecx], al
    inc dword [count]
.nothing_waiting:
    sti
.wait_ioapic:
    cmp dword [count], input_length
    jae .all_in
    hlt
    jmp .wait_ioapic
.all_in:
    cli
    mov dword [IOAPIC + 0x10], 0x10064
    mov esi, msg_received
    call print32
    mov esi, buffer
    call print32
    mov eax, [count]
    mov esi, msg_count
    call print_eax
    mov esi, msg_done
    call print32
    mov al, 0
    out 0xF4, al
    hlt

com1_irq:
    push eax
    push ecx
    push edx
    mov dx, 0x3FA
    in al, dx
    cmp byte [mode], 1
    jne .data
    mov [thre_iir], al
    inc dword [irqs]
    jmp .eoi
.data:
    mov dx, 0x3FD
    in al, dx
    test al, 1
    jz .eoi
    mov dx, 0x3F8
    in al, dx
    mov ecx, [count]
    mov [buffer + ecx], al
    inc dword [count]
    jmp .data
.eoi:
    cmp byte [ioapic_mode], 0
    je .pic
    mov dword [APIC + 0xB0], 0
    jmp .out
.pic:
    mov al, 0x20
    out 0x20, al
.out:
    pop edx
    pop ecx
    pop eax
    iretd

%include "serial32.inc"
%include "pc32.inc"


input_length equ 16
msg_thre:       db "IIR in the THR-empty interrupt: ", 0
msg_thre_count: db "THR-empty interrupts: ", 0
msg_received:   db "received: ", 0
msg_count:      db "bytes received: ", 0
msg_done:       db "serial: all checks ran", 10, 0

load_end:

section .bss
alignb 8
idt:         resb 256 * 8
irqs:        resd 1
count:       resd 1
buffer:      resb 64
thre_iir:    resb 1
mode:        resb 1
ioapic_mode: resb 1
alignb 16
             resb 8192
stack_top:
bss_end:
