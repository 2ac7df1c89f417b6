; The self-modifying-code fixture guest (issue 25): code that has run hot enough to be
; translated (softvmm translates a block once it has run 64 times; every function here runs
; 200 times first) is rewritten, and the new code must run:
;   1. through a store to the same page (a function's immediate);
;   2. by a block that stores into its own next instruction (on its last pass);
;   3. through an alias mapping: a function run at linear ALIAS + its address (a 2 MiB page
;      mapping physical 0 at 1 GiB) rewritten through the identity map, and one run through
;      the identity map rewritten through the alias;
;   4. by DMA: a virtio-rng device (virtio 1.2 over PCI, found by its capabilities) writes
;      four random bytes over a function's immediate; the function must return what memory
;      now holds. smc.options gives softvmm --device virtio-rng; smc.qemu-options gives QEMU
;      a modern-only virtio-rng-pci.
; (Another vCPU rewriting warm code is the smp guest's.) Every line printed is independent
; of the random bytes, so QEMU's output is the oracle. R12 stays 0 here; a test plants a
; fault in softvmm's translator that adds 1 to R12 on each pass of one of these blocks run as
; host code, to show that each block was translated before it was rewritten.
;
; Build: Fixtures/guests/build.sh

%include "show.mac"

bits 32
org 0x100000

ALIAS   equ 0x40000000          ; PDPT[1]: linear 1 GiB -> physical 0 (2 MiB)
BARWIN  equ 0x80000000          ; PDPT[2]: linear 2 GiB -> the virtio BAR's 4 MiB
RUNS    equ 200

%include "multiboot.inc"

start:
%include "longmode.inc"

long_start:
    cld
    ; --- 1. the same page ---
    xor r12d, r12d
    mov ecx, RUNS
.same:
    call same_fn
    dec ecx
    jnz .same
    show "same page, before"
    mov dword [same_fn + 1], 0x22222222
    call same_fn
    show "same page, after"

    ; --- 2. a warm block that rewrites its own next instruction (on its last pass: until
    ; then it stores to `scratch`) ---
    xor ebx, ebx
    mov ecx, RUNS
    mov r8d, .imm + 1
.self:
    mov edx, scratch
    cmp ecx, 1
    cmove edx, r8d
    mov byte [rdx], 0x5A
.imm:
    mov al, 0
    movzx eax, al
    add ebx, eax
    dec ecx
    jnz .self
    mov eax, ebx
    show "a block rewriting itself, the sum of what it ran"

    ; --- 3. an alias mapping ---
    mov qword [alias_pd], 0x83
    mov eax, alias_pd + 3
    mov [lm_pdpt + 8], rax
    mov rax, cr3
    mov cr3, rax
    mov rsi, ALIAS + alias_fn
    mov ecx, RUNS
.alias:
    call rsi
    dec ecx
    jnz .alias
    show "alias, before"
    mov dword [alias_fn + 1], 0x44444444
    call rsi
    show "alias run, identity store, after"
    mov ecx, RUNS
.identity:
    call identity_fn
    dec ecx
    jnz .identity
    show "identity, before"
    mov dword [ALIAS + identity_fn + 1], 0x55555555
    call identity_fn
    show "identity run, alias store, after"

    ; --- 4. DMA from a virtio device ---
    mov ecx, RUNS
.dma:
    call dma_fn
    dec ecx
    jnz .dma
    show "dma, before"
    call virtio_rng_fill
    mov rax, r13
    show "virtio-rng setup (0: done)"
    mov eax, [vq_used + 8]
    show "bytes the device wrote"
    call dma_fn
    xor edx, edx
    cmp eax, [dma_fn + 1]
    sete dl
    cmp eax, 0x66666666
    setne al
    and al, dl
    movzx eax, al
    show "dma, after: runs what the device wrote (1)"
    mov rax, r12
    show "r12 (0; a translator fault planted by a test counts here)"

    mov rsi, msg_done
    call print64
    mov al, 0
    out 0xF4, al
    hlt

; The functions rewritten: mov eax, imm32; ret.
same_fn:
    mov eax, 0x11111111
    ret
alias_fn:
    mov eax, 0x33333333
    ret
identity_fn:
    mov eax, 0x33333333
    ret
dma_fn:
    mov eax, 0x66666666
    ret

; Selects PCI configuration dword `edx` (offset) of the function in `ebx` (its address):
; DX is the data port after. Clobbers EAX.
pci_select:
    mov eax, ebx
    or eax, edx
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    ret

; That dword into EAX.
pci_read:
    push rdx
    call pci_select
    in eax, dx
    pop rdx
    ret

; ESI into that dword.
pci_write:
    push rdx
    call pci_select
    mov eax, esi
    out dx, eax
    pop rdx
    ret

; Finds the virtio-rng function (vendor 0x1AF4, device 0x1044) on bus 0, sets it up with one
; virtqueue (virtio 1.2, 3.1.1 and 4.1.4) and has it write four bytes at dma_fn + 1; waits for
; the used ring. R13: 0 when done, else the step that failed (1: no device, 2: no common or
; notify structure in one BAR, 3: FEATURES_OK refused, 4: no answer).
virtio_rng_fill:
    mov r13d, 1
    xor edi, edi                      ; the device number
.scan:
    mov ebx, edi
    shl ebx, 11
    or ebx, 0x80000000
    xor edx, edx
    call pci_read
    cmp eax, 0x10441AF4
    je .found
    inc edi
    cmp edi, 32
    jb .scan
    ret
.found:
    mov edx, 4                        ; command: memory space, bus master
    call pci_read
    or eax, 6
    mov esi, eax
    call pci_write
    ; The capabilities: vendor-specific (9), cfg_type 1 (common) and 2 (notify).
    mov r13d, 2
    mov edx, 0x34
    call pci_read
    movzx ecx, al
    mov r8d, -1                       ; the common structure's BAR and offset
    mov r10d, -1                      ; the notify structure's BAR and offset, multiplier
.cap:
    test ecx, ecx
    jz .caps_done
    mov edx, ecx
    call pci_read
    mov r14d, eax                     ; id, next, length, cfg_type
    cmp al, 9
    jne .cap_next
    lea edx, [ecx + 4]
    call pci_read
    movzx r15d, al                    ; the BAR
    lea edx, [ecx + 8]
    call pci_read                     ; the offset
    mov r11d, r14d
    shr r11d, 24
    cmp r11d, 1
    jne .not_common
    mov r8d, eax
    mov r9d, r15d
.not_common:
    cmp r11d, 2
    jne .cap_next
    mov r10d, eax
    mov [notify_bar], r15d
    lea edx, [ecx + 16]
    call pci_read
    mov [notify_multiplier], eax
.cap_next:
    mov ecx, r14d
    shr ecx, 8
    and ecx, 0xFF
    jmp .cap
.caps_done:
    cmp r8d, -1
    je .fail
    cmp r10d, -1
    je .fail
    cmp r9d, [notify_bar]
    jne .fail
    ; The BAR's address (a 64-bit memory BAR reads its high half next).
    lea edx, [r9d * 4 + 0x10]
    call pci_read
    mov r15d, eax
    and r15d, ~0xF
    test al, 4
    jz .bar32
    add edx, 4
    call pci_read
    shl rax, 32
    or r15, rax
.bar32:
    ; Map it at BARWIN: two 2 MiB pages, uncached.
    mov rax, r15
    and rax, ~0x1FFFFF
    or rax, 0x9B                      ; present, writable, PWT, PCD, 2 MiB
    mov [bar_pd], rax
    add rax, 0x200000
    mov [bar_pd + 8], rax
    mov eax, bar_pd + 3
    mov [lm_pdpt + 16], rax
    mov rax, cr3
    mov cr3, rax
    mov rdi, r15
    and rdi, 0x1FFFFF
    mov rax, BARWIN
    add rdi, rax                      ; the BAR at its window
    lea r10, [rdi + r10]              ; the notify structure
    add rdi, r8                       ; the common structure
    mov r13d, 3
    mov byte [rdi + 20], 0            ; device_status: reset
    mov byte [rdi + 20], 1            ; ACKNOWLEDGE
    mov byte [rdi + 20], 3            ; DRIVER
    mov dword [rdi + 8], 1            ; driver_feature_select 1: VIRTIO_F_VERSION_1
    mov dword [rdi + 12], 1
    mov dword [rdi + 8], 0
    mov dword [rdi + 12], 0
    mov byte [rdi + 20], 11           ; FEATURES_OK
    test byte [rdi + 20], 8
    jz .fail
    mov word [rdi + 22], 0            ; queue_select 0
    movzx eax, word [rdi + 30]        ; queue_notify_off
    imul eax, [notify_multiplier]
    add r10, rax
    mov rax, vq_desc
    mov [rdi + 32], rax
    mov rax, vq_avail
    mov [rdi + 40], rax
    mov rax, vq_used
    mov [rdi + 48], rax
    mov word [rdi + 28], 1            ; queue_enable
    mov byte [rdi + 20], 15           ; DRIVER_OK
    ; Descriptor 0: four bytes at dma_fn + 1, device-writable; offered without interrupts.
    mov qword [vq_desc], dma_fn + 1
    mov dword [vq_desc + 8], 4
    mov word [vq_desc + 12], 2        ; VIRTQ_DESC_F_WRITE
    mov word [vq_avail], 1            ; VIRTQ_AVAIL_F_NO_INTERRUPT
    mov word [vq_avail + 4], 0
    mov word [vq_avail + 2], 1
    mov word [r10], 0                 ; notify queue 0
    mov r13d, 4
    mov ecx, 10000000
.poll:
    cmp word [vq_used + 2], 1
    je .answered
    pause
    dec ecx
    jnz .poll
    ret
.answered:
    xor r13d, r13d
.fail:
    ret

msg_done: db "smc: all checks ran", 10, 0

%include "show.inc"
%include "serial64.inc"

notify_bar: dd 0
notify_multiplier: dd 0

load_end:

section .bss align=4096
lm_pml4: resb 4096
lm_pdpt: resb 4096
lm_pd: resb 4096
alias_pd: resb 4096
bar_pd: resb 4096
vq_desc: resb 4096
vq_avail: resb 4096
vq_used: resb 4096
scratch: resb 4096                  ; a page of its own: a store to the code's page drops its blocks
resb 8192
stack_top:
bss_end:
