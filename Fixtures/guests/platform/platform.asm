; The platform fixture guest: the MC146818 RTC (status registers, a BCD time that makes
; sense, the periodic interrupt on IRQ 8 through the slave 8259A), PCI configuration
; mechanism #1 (the i440FX host bridge and the PIIX3 at 00:01.0, an absent function), and
; the i8042 (self-test, then the reset line, which ends the run as QEMU's -no-reboot does).
; Each check prints one line on COM1; QEMU's TCG output is the expectation. Nothing printed
; depends on the date or on how fast time passes.
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

%include "multiboot.inc"

%include "entry32.inc"

main:
    call idt_init
    gate 0x28, rtc_irq
    ; PICs: vectors 0x20 and 0x28; only the cascade and IRQ 8 unmasked.
    mov al, 0x01
    call pic_init
    mov al, 0xFB
    out 0x21, al
    mov al, 0xFE
    out 0xA1, al

    ; --- RTC ---
    mov al, 0x0A
    call rtc_read
    and al, 0x7F                      ; without the update-in-progress flag
    mov esi, msg_rtc_a
    call print_al
    mov al, 0x0B
    call rtc_read
    mov esi, msg_rtc_b
    call print_al
    mov al, 0x0D
    call rtc_read
    mov esi, msg_rtc_d
    call print_al
    ; A BCD time: every register's nibbles are digits and in range.
    xor ebx, ebx
    mov al, 0x00
    call rtc_read
    mov ah, 0x59
    call check_bcd
    mov al, 0x02
    call rtc_read
    mov ah, 0x59
    call check_bcd
    mov al, 0x04
    call rtc_read
    mov ah, 0x23
    call check_bcd
    mov al, 0x07
    call rtc_read
    mov ah, 0x31
    call check_bcd
    mov al, 0x08
    call rtc_read
    mov ah, 0x12
    call check_bcd
    mov eax, ebx
    mov esi, msg_bcd
    call print_eax
    ; The periodic interrupt: 1024 Hz (rate 6), PIE.
    mov al, 0x0C
    call rtc_read                     ; clear old flags
    mov al, 0x0B
    mov ah, 0x42                      ; PIE, 24-hour, BCD
    call rtc_write
    sti
.wait_rtc:
    hlt
    cmp dword [rtc_ticks], 3
    jb .wait_rtc
    cli
    mov al, 0x0B
    mov ah, 0x02
    call rtc_write
    mov eax, [rtc_ticks]
    mov esi, msg_rtc_ticks
    call print_eax
    mov al, [rtc_c]
    mov esi, msg_rtc_c
    call print_al

    ; --- PCI configuration space ---
    mov eax, 0x80000000               ; 00:00.0, register 0
    call pci_read
    mov esi, msg_pci_id0
    call print_eax
    mov eax, 0x80000008
    call pci_read
    mov esi, msg_pci_class0
    call print_eax
    mov eax, 0x8000000C
    call pci_read
    shr eax, 16
    and eax, 0xFF
    mov esi, msg_pci_header0
    call print_eax
    mov eax, 0x80000800               ; 00:01.0
    call pci_read
    mov esi, msg_pci_id1
    call print_eax
    mov eax, 0x8000080C
    call pci_read
    shr eax, 16
    and eax, 0xFF
    mov esi, msg_pci_header1
    call print_eax
    mov eax, 0x8000FF00               ; 00:1f.7: nothing there
    call pci_read
    mov esi, msg_pci_absent
    call print_eax
    mov dx, 0xCF8
    mov eax, 0x80000804
    out dx, eax
    in eax, dx
    mov esi, msg_pci_address
    call print_eax
    mov eax, 0x80000002               ; a 16-bit read of the device ID through 0xCFE
    mov dx, 0xCF8
    and eax, ~3
    out dx, eax
    mov dx, 0xCFE
    in ax, dx
    movzx eax, ax
    mov esi, msg_pci_word
    call print_eax

    ; --- i8042 ---
    mov al, 0xAA                      ; controller self-test
    out 0x64, al
.wait_obf:
    in al, 0x64
    test al, 1
    jz .wait_obf
    in al, 0x60
    mov esi, msg_selftest
    call print_al
    mov esi, msg_reset
    call print32
    mov al, 0xFE                      ; pulse the reset line
    out 0x64, al
    mov esi, msg_still_here
    call print32
    mov al, 1
    out 0xF4, al
    hlt

; Bits in EBX for a BCD byte in AL that is not a number up to AH.
check_bcd:
    shl ebx, 1
    mov cl, al
    and cl, 0x0F
    cmp cl, 9
    ja .bad
    mov cl, al
    shr cl, 4
    cmp cl, 9
    ja .bad
    cmp al, ah
    ja .bad
    ret
.bad:
    or ebx, 1
    ret

rtc_read:
    out 0x70, al
    in al, 0x71
    ret

rtc_write:
    out 0x70, al
    mov al, ah
    out 0x71, al
    ret

; The configuration dword at the address in EAX.
pci_read:
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    ret

rtc_irq:
    push eax
    mov al, 0x0C
    out 0x70, al
    in al, 0x71                       ; reading register C ends the request
    and al, 0xC0                      ; IRQF and PF (UF depends on when a second ended)
    mov [rtc_c], al
    inc dword [rtc_ticks]
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop eax
    iretd

%include "serial32.inc"
%include "pc32.inc"


msg_rtc_a:        db "RTC register A: ", 0
msg_rtc_b:        db "RTC register B: ", 0
msg_rtc_d:        db "RTC register D: ", 0
msg_bcd:          db "RTC time registers not valid BCD (bit per register): ", 0
msg_rtc_ticks:    db "RTC periodic interrupts: ", 0
msg_rtc_c:        db "RTC register C in the handler (IRQF, PF): ", 0
msg_pci_id0:      db "PCI 00:00.0 vendor/device: ", 0
msg_pci_class0:   db "PCI 00:00.0 class/revision: ", 0
msg_pci_header0:  db "PCI 00:00.0 header type: ", 0
msg_pci_id1:      db "PCI 00:01.0 vendor/device: ", 0
msg_pci_header1:  db "PCI 00:01.0 header type: ", 0
msg_pci_absent:   db "PCI 00:1f.7: ", 0
msg_pci_address:  db "PCI address register: ", 0
msg_pci_word:     db "PCI 00:00.0 device ID by a 16-bit read: ", 0
msg_selftest:     db "i8042 self-test: ", 0
msg_reset:        db "i8042 reset", 10, 0
msg_still_here:   db "still running after the reset", 10, 0

load_end:

section .bss
alignb 8
idt:        resb 256 * 8
rtc_ticks:  resd 1
rtc_c:      resb 1
alignb 16
            resb 8192
stack_top:
bss_end:
