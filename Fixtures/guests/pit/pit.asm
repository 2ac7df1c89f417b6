; The PIT fixture guest: the 8254 timer's interrupts through the 8259A pair, and the parts
; of both a kernel uses. Each check prints one line on COM1; QEMU's TCG output is the
; expectation (pit.expected). QEMU's timers follow the host clock, softvmm's the instruction
; count, so nothing printed depends on how fast time passes: only on what happens in order.
;
;   the PICs initialized (ICW1-ICW4: vectors 0x20 and 0x28, cascade on IRQ 2), IMR and ELCR
;   read back; counter 0 in mode 2 at 100 Hz: five interrupts taken with HLT, ISR read in
;   the handler, EOI; with IF clear the request waits in IRR; the poll command acknowledges
;   it; automatic EOI; mode 3 (square wave); mode 0 (one interrupt only); counter 2 through
;   port 0x61 (gate, OUT), the counter-latch and read-back commands.
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

%include "multiboot.inc"

%include "entry32.inc"

main:
    ; IDT: 0x20 to the timer handler, 0x27 to `spurious`, the rest to `unexpected`.
    call idt_init
    gate 0x20, timer
    gate 0x27, spurious

    ; --- the PICs ---
    mov al, 0x01                      ; ICW4: 8086 mode
    call pic_init
    mov al, 0xFE                      ; only IRQ 0
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    in al, 0x21
    mov esi, msg_imr
    call print_al
    mov al, 0xFF                      ; ELCR: which inputs can be level-triggered
    mov dx, 0x4D0
    out dx, al
    in al, dx
    mov esi, msg_elcr0
    call print_al
    mov al, 0xFF
    mov dx, 0x4D1
    out dx, al
    in al, dx
    mov esi, msg_elcr1
    call print_al
    xor al, al
    mov dx, 0x4D0
    out dx, al
    inc dx
    out dx, al

    ; --- counter 0, mode 2, 100 Hz: five interrupts ---
    mov al, 0x34                      ; counter 0, LSB then MSB, mode 2, binary
    out 0x43, al
    mov ax, 11932
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov dword [ticks], 0
    sti
.wait5:
    hlt
    cmp dword [ticks], 5
    jb .wait5
    cli
    mov eax, [ticks]
    mov esi, msg_ticks
    call print_eax
    mov al, [isr_seen]
    mov esi, msg_isr_in_handler
    call print_al
    mov al, 0x0B                      ; OCW3: read ISR
    out 0x20, al
    in al, 0x20
    mov esi, msg_isr_after
    call print_al

    ; --- IF clear: the request waits in IRR ---
    mov ecx, 100000000
.wait_irr:
    mov al, 0x0A                      ; OCW3: read IRR
    out 0x20, al
    in al, 0x20
    test al, 1
    jnz .irr_set
    loop .wait_irr
.irr_set:
    and al, 1
    mov esi, msg_irr
    call print_al
    ; The poll command acknowledges it: 0x80 | 0.
    mov al, 0x0C
    out 0x20, al
    in al, 0x20
    mov esi, msg_poll
    call print_al
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    mov esi, msg_isr_polled
    call print_al
    mov al, 0x20                      ; non-specific EOI
    out 0x20, al
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    mov esi, msg_isr_after
    call print_al

    ; --- automatic EOI: nothing stays in service ---
    mov al, 0x03                      ; ICW4: 8086 mode, automatic EOI
    call pic_init
    mov al, 0xFE
    out 0x21, al
    mov dword [ticks], 0
    sti
.wait_aeoi:
    hlt
    cmp dword [ticks], 2
    jb .wait_aeoi
    cli
    mov al, [isr_seen]
    mov esi, msg_isr_aeoi
    call print_al
    mov al, 0x01
    call pic_init
    mov al, 0xFE
    out 0x21, al

    ; --- mode 3, square wave ---
    mov al, 0x36
    out 0x43, al
    mov ax, 2386                      ; 500 Hz
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov dword [ticks], 0
    sti
.wait3:
    hlt
    cmp dword [ticks], 3
    jb .wait3
    cli
    mov eax, [ticks]
    mov esi, msg_mode3
    call print_eax

    ; --- mode 0: one interrupt at the terminal count, then none ---
    mov al, 0x30
    out 0x43, al
    mov ax, 1193                      ; 1 ms
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov dword [ticks], 0
    sti
.wait0:
    hlt
    cmp dword [ticks], 1
    jb .wait0
    ; Wait 10 ms on counter 2 (mode 0, polled through port 0x61) with interrupts on.
    call delay_counter2
    cli
    mov eax, [ticks]
    mov esi, msg_mode0
    call print_eax

    ; --- counter 2 status through the read-back command ---
    mov al, 0xE8                      ; read back counter 2's status only
    out 0x43, al
    in al, 0x42
    mov esi, msg_status2
    call print_al
    ; The counter-latch command: two latched reads of counter 0 (mode 2 from 0xFFFF, a
    ; period of 55 ms: a few microseconds apart, the second is no higher).
    mov al, 0x34
    out 0x43, al
    mov al, 0xFF
    out 0x40, al
    out 0x40, al
    mov al, 0x00                      ; latch counter 0
    out 0x43, al
    in al, 0x40
    mov bl, al
    in al, 0x40
    mov bh, al
    mov ecx, 1000
.spin:
    loop .spin
    mov al, 0x00
    out 0x43, al
    in al, 0x40
    mov dl, al
    in al, 0x40
    mov dh, al
    xor eax, eax
    cmp dx, bx
    setbe al
    mov esi, msg_latch
    call print_al

    mov esi, msg_done
    call print32
    mov al, 0
    out 0xF4, al
    hlt

timer:
    push eax
    mov al, 0x0B
    out 0x20, al
    in al, 0x20
    mov [isr_seen], al
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

spurious:
    push esi
    mov esi, msg_spurious
    call print32
    pop esi
    iretd

; "text: " AL as 8 hex digits, a newline.
%include "serial32.inc"
%include "pc32.inc"


msg_imr:            db "IMR: ", 0
msg_elcr0:          db "ELCR master after writing ff: ", 0
msg_elcr1:          db "ELCR slave after writing ff: ", 0
msg_ticks:          db "mode 2 interrupts taken: ", 0
msg_isr_in_handler: db "ISR in the handler: ", 0
msg_isr_after:      db "ISR after EOI: ", 0
msg_irr:            db "IRR bit 0 with IF clear: ", 0
msg_poll:           db "poll: ", 0
msg_isr_polled:     db "ISR after the poll: ", 0
msg_isr_aeoi:       db "ISR in the handler with automatic EOI: ", 0
msg_mode3:          db "mode 3 interrupts taken: ", 0
msg_mode0:          db "mode 0 interrupts after 10 ms more: ", 0
msg_status2:        db "counter 2 status: ", 0
msg_latch:          db "second latched count no higher: ", 0
msg_done:           db "pit: all checks ran", 10, 0
msg_spurious:       db "spurious IRQ 7", 10, 0

load_end:

section .bss
alignb 8
idt:        resb 256 * 8
ticks:      resd 1
isr_seen:   resb 1
alignb 16
            resb 8192
stack_top:
bss_end:
