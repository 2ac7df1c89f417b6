; The system fixture guest: mode switches, descriptor tables, paging with exact page-fault
; error codes, accessed/dirty bits, INVLPG, exceptions and software interrupts in every
; mode, ring 3 with a TSS, SYSCALL/SYSRET, and XSAVE. Each check prints one line on COM1;
; QEMU's TCG output is the expectation (system.expected).
;
;   Multiboot entry (32-bit protected mode, paging off)
;   -> own GDT, far jump            (pm32)
;   -> 16-bit protected mode -> real mode, INT through the IVT -> back to protected mode
;   -> PAE tables, EFER.LME, CR0.PG -> 64-bit mode (long)
;   -> IDT, TSS; #DE #UD #BP #GP #PF (not present, write to read-only, NX fetch); A/D bits; INVLPG
;   -> ring 3 through IRETQ: INT 0x80 (DPL 3 gate), SYSCALL, HLT (#GP), INT 0x81 (DPL 0 gate:
;      #GP with the IDT error code), a supervisor page (#PF with U set), back through INT 0x82
;   -> XSAVE/XRSTOR of the SSE state, exit code 0 through port 0xf4.
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

RM_BASE  equ 0x7000              ; where the real-mode piece is copied (segment 0x0700)

%include "multiboot.inc"

start:
    cli
    mov esp, stack32_top
    lgdt [gdt_ptr]
    jmp 0x08:pm32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esi, msg_pm32
    call print32
    str eax                       ; no TSS yet: TR's selector is 0
    mov esi, msg_tr
    call print32
    call hex32
    call newline32

    ; --- to real mode and back ---
    mov esi, rm_blob
    mov edi, RM_BASE
    mov ecx, rm_blob_end - rm_blob
    cld
    rep movsb
    jmp 0x50:(RM_BASE + rm16 - rm_blob)

pm_back:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack32_top
    mov esi, msg_pm_back
    call print32

    ; --- to long mode ---
    ; PML4[0] -> PDPT; PDPT[0] -> PD; PD[0] = 2 MiB identity page (supervisor), PD[1] -> PT
    ; (the 4 KiB test pages at 0x200000), PD[2..511] = 2 MiB identity pages.
    mov dword [pml4], pdpt + 7
    mov dword [pdpt], pd + 7
    mov dword [pd], 0x83
    mov dword [pd + 8], pt + 7
    mov ecx, 2
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [pd + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .pd
    ; PT: identity 4 KiB pages, supervisor read/write, then the special ones.
    xor ecx, ecx
.pt:
    mov eax, ecx
    shl eax, 12
    add eax, 0x200000
    or eax, 3
    mov [pt + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .pt
    and dword [pt + 0 * 8], ~2                ; 0x200000: read-only
    and dword [pt + 1 * 8], ~1                ; 0x201000: not present
    mov dword [pt + 2 * 8 + 4], 0x80000000    ; 0x202000: execute-disable
    or dword [pt + 5 * 8], 4                  ; 0x205000: user code
    or dword [pt + 6 * 8], 4                  ; 0x206000: user stack
    mov dword [pt + 8 * 8], 0x300003          ; 0x208000 -> 0x300000 (for INVLPG)

    mov eax, cr4
    or eax, 0x220                 ; PAE, OSFXSR
    or eax, 1 << 18               ; OSXSAVE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xC0000080           ; EFER: SCE, LME, NXE
    rdmsr
    or eax, (1 << 0) | (1 << 8) | (1 << 11)
    wrmsr
    mov eax, cr0
    or eax, 0x80010000            ; PG, WP
    mov cr0, eax
    jmp 0x18:long64

; ---------------------------------------------------------------------------------------
bits 64
long64:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, stack_top
    mov rsi, msg_long
    call print64
    mov ecx, 0xC0000080
    rdmsr
    mov rsi, msg_efer
    call print64
    call hex64
    call newline

    ; IDT: the stubs, interrupt gates DPL 0, except 0x80 and 0x82 (DPL 3).
    xor ecx, ecx
.idt:
    mov rax, [stubs + rcx * 8]
    mov rdi, rcx
    shl rdi, 4
    add rdi, idt
    mov word [rdi], ax
    mov word [rdi + 2], 0x18
    mov word [rdi + 4], 0x8E00
    shr rax, 16
    mov word [rdi + 6], ax
    shr rax, 16
    mov dword [rdi + 8], eax
    inc ecx
    cmp ecx, 0x83
    jb .idt
    mov byte [idt + 0x80 * 16 + 5], 0xEE
    mov byte [idt + 0x82 * 16 + 5], 0xEE
    lidt [idt_ptr]

    ; TSS: RSP0 = the kernel stack.
    mov rax, stack_top
    mov [tss + 4], rax
    mov rax, tss
    mov [gdt + 0x40 + 2], ax
    shr rax, 16
    mov [gdt + 0x40 + 4], al
    mov [gdt + 0x40 + 7], ah
    shr rax, 16
    mov [gdt + 0x40 + 8], eax
    mov ax, 0x40
    ltr ax
    str ax
    mov rsi, msg_tr
    call print64
    movzx rax, ax
    call hex64
    call newline

    ; --- exceptions in ring 0 ---
    mov qword [resume], .after_de
    xor edx, edx
    xor ecx, ecx
    mov eax, 1
    div ecx
.after_de:
    mov qword [resume], .after_ud
    ud2
.after_ud:
    mov qword [resume], .after_bp
    int3
.after_bp:
    mov qword [resume], .after_gp
    mov rax, 0x8000000000000000
    mov rax, [rax]
.after_gp:
    mov qword [resume], .after_pf1
    mov eax, [0x201000]           ; not present: error 0
.after_pf1:
    mov qword [resume], .after_pf2
    mov byte [0x200000], 1        ; read-only: error 3 (P, W)
.after_pf2:
    mov qword [resume], .after_pf3
    mov byte [0x202000], 0xC3     ; the NX page is writable...
    mov rax, 0x202000
    call rax                      ; ...but not executable: error 0x11 (P, I/D)
.after_pf3:
    mov qword [resume], .after_gp2
    mov ax, 0x1234                ; a selector beyond the GDT: #GP(0x1230)
    mov ds, ax
.after_gp2:
    mov ax, 0x20
    mov ds, ax

    ; --- accessed and dirty bits ---
    and qword [pt + 7 * 8], ~0x60
    invlpg [0x207000]
    mov rax, [0x207000]
    mov rsi, msg_ad_read
    call print64
    mov rax, [pt + 7 * 8]
    and rax, 0x60
    call hex64
    call newline
    mov qword [0x207000], 5
    mov rsi, msg_ad_write
    call print64
    mov rax, [pt + 7 * 8]
    and rax, 0x60
    call hex64
    call newline

    ; --- INVLPG: remap 0x208000 from 0x300000 to 0x301000 ---
    mov qword [0x300000], 0x1111
    mov qword [0x301000], 0x2222
    mov rax, [0x208000]
    mov qword [pt + 8 * 8], 0x301003
    invlpg [0x208000]
    mov rax, [0x208000]
    mov rsi, msg_invlpg
    call print64
    call hex64
    call newline

    ; --- CR0/CR4/CR3 reads ---
    mov rsi, msg_cr0
    call print64
    mov rax, cr0
    call hex64
    call newline

    ; --- ring 3 ---
    mov ecx, 0xC0000081           ; STAR: kernel CS 0x18 (SS 0x20), user base 0x28 (CS 0x3b, SS 0x33)
    xor eax, eax
    mov edx, 0x00280018
    wrmsr
    mov ecx, 0xC0000082           ; LSTAR
    mov rax, syscall_entry
    mov rdx, rax
    shr rdx, 32
    wrmsr
    mov ecx, 0xC0000084           ; FMASK: IF, TF, DF
    mov eax, 0x700
    xor edx, edx
    wrmsr
    mov rsi, user_code
    mov rdi, 0x205000
    mov rcx, user_code_end - user_code
    rep movsb
    mov [kernel_rsp], rsp
    push 0x33                     ; SS
    push 0x207000                 ; RSP (top of the user stack page 0x206000)
    push 0x202                    ; RFLAGS
    push 0x3B                     ; CS
    push 0x205000                 ; RIP
    iretq

back_in_kernel:
    mov rsp, [kernel_rsp]
    mov ax, 0x20
    mov ds, ax
    mov rsi, msg_back
    call print64

    ; --- XSAVE/XRSTOR of XMM0 ---
    xor ecx, ecx
    mov eax, 3                    ; XCR0: x87 and SSE
    xor edx, edx
    xsetbv
    xgetbv
    mov rsi, msg_xcr0
    call print64
    call hex64
    call newline
    mov rax, 0x0123456789ABCDEF
    movq xmm0, rax
    mov eax, 3
    xor edx, edx
    xsave [xsave_area]
    pxor xmm0, xmm0
    mov eax, 3
    xor edx, edx
    xrstor [xsave_area]
    movq rax, xmm0
    mov rsi, msg_xrstor
    call print64
    call hex64
    call newline
    mov rax, [xsave_area + 512]
    and rax, 2                    ; SSE is in use (XMM0 is not zero)
    mov rsi, msg_xstate_bv
    call print64
    call hex64
    call newline

    mov rsi, msg_done
    call print64
    mov al, 0
    out 0xF4, al
    hlt

; Ring 3 (copied to 0x205000: position-independent).
user_code:
    int 0x80
    mov rax, 42
    syscall
    hlt                           ; #GP(0) at CPL 3
    int 0x81                      ; DPL 0 gate: #GP(0x81 * 8 + 2)
    mov rax, [0x200000]           ; a supervisor page: #PF error 5 (P, U)
    int 0x82                      ; back to the kernel
user_code_end:

syscall_entry:
    ; RCX = the return RIP, R11 = RFLAGS; print the syscall number and return with SYSRETQ.
    mov rsi, msg_syscall
    call print64
    call hex64
    call newline
    o64 sysret

; Every vector's stub pushes a zero error code where the CPU pushes none, then the vector.
%macro stub 1
stub_%1:
%if %1 != 8 && (%1 < 10 || %1 > 14) && %1 != 17 && %1 != 21
    push 0
%endif
    push %1
    jmp isr_common
%endmacro
%assign v 0
%rep 0x83
    stub v
%assign v v + 1
%endrep

isr_common:
    ; [rsp] vector, [rsp+8] error code, [rsp+16] RIP, +24 CS, +32 RFLAGS, +40 RSP, +48 SS
    push rax
    push rsi
    mov rsi, msg_vector
    call print64
    mov rax, [rsp + 16]
    call hex64
    mov rsi, msg_error
    call print64
    mov rax, [rsp + 24]
    call hex64
    mov rsi, msg_cpl
    call print64
    mov rax, [rsp + 40]
    and rax, 3
    call hex64
    cmp qword [rsp + 16], 14
    jne .no_cr2
    mov rsi, msg_cr2
    call print64
    mov rax, cr2
    call hex64
.no_cr2:
    call newline
    mov rax, [rsp + 16]
    cmp rax, 0x82
    je .to_kernel
    cmp rax, 0x80                 ; INT 0x80 returns after itself
    je .return
    cmp qword [rsp + 40], 0x3B    ; from ring 3: continue with the next user instruction
    je .user
    mov rax, [resume]
    mov [rsp + 32], rax
    pop rsi
    pop rax
    add rsp, 16
    iretq
.user:
    ; Skip the faulting user instruction: its length is in the table below, by vector.
    mov rax, [rsp + 32]
    call user_length
    add [rsp + 32], rax
.return:
    pop rsi
    pop rax
    add rsp, 16
    iretq
.to_kernel:
    jmp back_in_kernel

; The length of the user instruction at RAX that faulted (hlt 1, int 0x81 2, mov rax,[abs] 8).
user_length:
    cmp byte [rax], 0xF4
    je .one
    cmp byte [rax], 0xCD
    je .two
    mov eax, 8
    ret
.one:
    mov eax, 1
    ret
.two:
    mov eax, 2
    ret

newline:
    push rax
    mov al, 10
    call putc64
    pop rax
    ret

%include "serial64.inc"

stubs:
%assign v 0
%rep 0x83
    dq stub_ %+ v
%assign v v + 1
%endrep

; ---------------------------------------------------------------------------------------
bits 32
newline32:
    push eax
    mov al, 10
    call putc32
    pop eax
    ret

%include "serial32.inc"

; The real-mode piece, copied to 0x7000 and run with CS = DS = 0x0700.
rm_blob:
bits 16
rm16:
    mov ax, 0x58                  ; 16-bit data segments (limit 64 KiB) before leaving PE
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0x0700:(rm_real - rm_blob)
rm_real:
    mov ax, 0x0700
    mov ds, ax
    mov ss, ax
    mov sp, 0x0FF0
    lidt [rm_idt - rm_blob]
    mov si, msg_real - rm_blob
    call rm_print
    xor ax, ax
    mov es, ax
    mov word [es:0x60 * 4], rm_int - rm_blob
    mov word [es:0x60 * 4 + 2], 0x0700
    mov ax, 0x1234
    int 0x60
    mov si, msg_real_after - rm_blob
    call rm_print
    lgdt [rm_gdt_ptr - rm_blob]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword 0x08:pm_back
rm_int:
    ; Real-mode interrupt: FLAGS, CS and IP are on the stack; AX came through.
    push si
    mov si, msg_real_int - rm_blob
    call rm_print
    pop si
    cmp ax, 0x1234
    jne .bad
    iret
.bad:
    mov al, 1
    out 0xF4, al
rm_print:
    push ax
    push dx
.next:
    lodsb
    test al, al
    jz .done
    mov ah, al
.wait:
    mov dx, 0x3FD
    in al, dx
    test al, 0x20
    jz .wait
    mov al, ah
    mov dx, 0x3F8
    out dx, al
    jmp .next
.done:
    pop dx
    pop ax
    ret
rm_idt:
    dw 0x3FF
    dd 0
rm_gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
msg_real: db "real mode: ok", 10, 0
msg_real_int: db "real mode: int 0x60 through the IVT", 10, 0
msg_real_after: db "real mode: back from the interrupt", 10, 0
rm_blob_end:
bits 32

align 16
gdt:
    dq 0
    dq 0x00CF9B000000FFFF         ; 0x08 code32, DPL 0
    dq 0x00CF93000000FFFF         ; 0x10 data, DPL 0
    dq 0x00AF9B000000FFFF         ; 0x18 code64, DPL 0
    dq 0x00CF93000000FFFF         ; 0x20 data, DPL 0
    dq 0x00CFFB000000FFFF         ; 0x28 code32, DPL 3
    dq 0x00CFF3000000FFFF         ; 0x30 data, DPL 3
    dq 0x00AFFB000000FFFF         ; 0x38 code64, DPL 3
    dq 0x0000890000000067, 0      ; 0x40 TSS (base filled in)
    dq 0x00009B000000FFFF         ; 0x50 code16, DPL 0
    dq 0x000093000000FFFF         ; 0x58 data16, DPL 0
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd gdt
idt_ptr:
    dw 0x83 * 16 - 1
    dq idt

msg_pm32: db "pm32: own GDT loaded", 10, 0
msg_tr: db "task register: ", 0
msg_pm_back: db "pm32: back from real mode", 10, 0
msg_long: db "long mode: 64-bit code running", 10, 0
msg_efer: db "efer: ", 0
msg_vector: db "exception ", 0
msg_error: db " error ", 0
msg_cpl: db " cpl ", 0
msg_cr2: db " cr2 ", 0
msg_ad_read: db "after a read, A/D: ", 0
msg_ad_write: db "after a write, A/D: ", 0
msg_invlpg: db "after invlpg: ", 0
msg_cr0: db "cr0: ", 0
msg_syscall: db "syscall from ring 3, rax ", 0
msg_back: db "ring 3 done, back in the kernel", 10, 0
msg_xcr0: db "xcr0: ", 0
msg_xrstor: db "xmm0 after xsave, clear, xrstor: ", 0
msg_xstate_bv: db "xstate_bv & 2: ", 0
msg_done: db "system: all checks ran", 10, 0

load_end:

section .bss align=4096
bss_start:
pml4: resb 4096
pdpt: resb 4096
pd: resb 4096
pt: resb 4096
idt: resb 4096
xsave_area: resb 4096
tss: resb 4096
resume: resq 1
kernel_rsp: resq 1
resb 8192
stack_top:
resb 4096
stack32_top:
bss_end:
