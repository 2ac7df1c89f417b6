; Decoded code and its frames (issue 8): a long-mode guest loaded at 0x100000 with the
; loader's identity map (2 MiB pages). It maps linear 0x40000000 (the PD for 1-2 GiB) onto
; physical 0 as a 2 MiB page, so `target` runs at ALIAS = 0x40000000 + target too.
;   1. call ALIAS: eax = 1
;   2. patch target's immediate through its identity address (another linear page, the same
;      frame), call ALIAS again: eax must be 2 (a store to the frame drops the decoded entry)
;   3. copy "mov eax, 3; ret" to target + 2 MiB, point the alias at physical 2 MiB, reload
;      CR3, call ALIAS: eax must be 3 (after the flush the entry is checked against its frame)
; Exit through the debug port: 0x11 when all three hold, else the step that failed.
bits 64
org 0x100000
ALIAS equ 0x40000000
MASK  equ 0x000ffffffffff000
start:
    mov esp, 0x90000            ; a stack in low RAM (the loader leaves RSP 0)
    mov rax, cr3
    mov rdx, MASK
    and rax, rdx
    mov rax, [rax]              ; PML4[0] -> the PDPT
    and rax, rdx
    mov rbx, [rax + 8]          ; PDPT[1] -> the PD for 1-2 GiB
    and rbx, rdx
    mov qword [rbx], 0x83       ; PD[0]: physical 0, 2 MiB, writable, present
    mov rax, cr3
    mov cr3, rax
    mov rsi, ALIAS + target
    call rsi
    mov dl, 1
    cmp eax, 1
    jne fail
    mov dword [target + 1], 2   ; the same frame, through the identity map
    call rsi
    mov dl, 2
    cmp eax, 2
    jne fail
    mov rdi, target + 0x200000  ; physical 2 MiB + target's offset in its 2 MiB page... (identity)
    mov rcx, target_end - target
    mov rsi, target
    rep movsb
    mov byte [target + 0x200000 + 1], 3
    mov qword [rbx], 0x200083   ; PD[0]: physical 2 MiB
    mov rax, cr3
    mov cr3, rax
    mov rsi, ALIAS + target
    call rsi
    mov dl, 3
    cmp eax, 3
    jne fail
    mov dl, 0x11
fail:
    mov al, dl
    out 0xf4, al
    hlt
align 4096                      ; a page no code runs from at its identity address
target:
    mov eax, 1
    ret
target_end:
