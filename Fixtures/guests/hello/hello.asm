; The first fixture guest: a Multiboot v1 kernel (the header's address fields, so the
; file is loaded as it is) that enters in 32-bit protected mode, prints one line on COM1
; by polling the line status register, and exits through isa-debug-exit (port 0xf4) with
; code 0 (QEMU's status is then (0 << 1) | 1 = 1).
;
; Build: nasm -f bin -i lib/ -o hello/hello.bin hello/hello.asm (Fixtures/guests/build.sh does every guest)

bits 32
org 0x100000

%include "multiboot.inc"

start:
    cli
    mov esp, stack_top
    cmp eax, 0x2BADB002                ; the loader's magic
    jne fail
    mov esi, message
.next:
    lodsb
    test al, al
    jz done
    mov ah, al
.wait:
    mov dx, 0x3FD                      ; line status: transmitter holding register empty?
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3F8
    out dx, al
    jmp .next
done:
    mov al, 0
    out 0xF4, al
    hlt
fail:
    mov al, 1
    out 0xF4, al
    hlt

message: db "hello from 32-bit protected mode", 10, 0

load_end:
    align 16
    times 256 db 0
stack_top:
bss_end:
