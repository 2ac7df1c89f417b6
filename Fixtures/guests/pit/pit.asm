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
    ; IDT: every vector goes to `unexpected`, 0x20 to the timer handler, 0x27 to `spurious`.
    xor ecx, ecx
.idt:
    mov eax, unexpected
    cmp ecx, 0x20
    jne .not_timer
    mov eax, timer
.not_timer:
    cmp ecx, 0x27
    jne .not_spurious
    mov eax, spurious
.not_spurious:
    mov [idt + ecx * 8], ax
    mov word [idt + ecx * 8 + 2], 0x08
    mov word [idt + ecx * 8 + 4], 0x8E00
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, 256
    jb .idt
    lidt [idt_ptr]

    ; --- the PICs ---
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
    mov byte [icw4], 0x03
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
    mov byte [icw4], 0x01
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

; Counter 2 in mode 0 for 10 ms: gate on (port 0x61 bit 0, speaker off), wait for OUT (bit 5).
delay_counter2:
    in al, 0x61
    and al, 0xFC
    or al, 0x01
    out 0x61, al
    mov al, 0xB0                      ; counter 2, LSB then MSB, mode 0
    out 0x43, al
    mov ax, 11932
    out 0x42, al
    mov al, ah
    out 0x42, al
.poll:
    in al, 0x61
    test al, 0x20
    jz .poll
    ret

; ICW1-ICW4 for both chips (ICW4 from `icw4`): vectors 0x20 and 0x28, the slave on IRQ 2.
pic_init:
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, [icw4]
    out 0x21, al
    out 0xA1, al
    ret

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

unexpected:
    mov esi, msg_unexpected
    call print32
    mov al, 1
    out 0xF4, al
    hlt

; "text: " AL as 8 hex digits, a newline.
%include "serial32.inc"

idt_ptr:
    dw 256 * 8 - 1
    dd idt
icw4: db 0x01

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
msg_unexpected:     db "unexpected interrupt", 10, 0

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
