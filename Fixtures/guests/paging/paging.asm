; The paging fixture guest: every guest paging mode and the protection features on top of
; them, and the debug registers. Each check prints one line on COM1; QEMU's TCG output is the
; expectation (paging.expected).
;
;   Multiboot entry -> own GDT and a 32-bit IDT
;   -> 32-bit paging with 4 KiB and 4 MiB pages (CR4.PSE): #PF error codes and CR2,
;      CR0.WP, accessed/dirty bits in PDEs and PTEs
;   -> PAE paging (paging off, CR4.PAE, EFER.NXE): an execute-disable fetch, a reserved bit,
;      a PDPTE with a reserved bit refused by MOV CR3 (#GP)
;   -> 4-level paging in 64-bit mode: SMEP, SMAP with STAC/CLAC (an access AC allowed, then
;      the same with AC clear), protection keys (RDPKRU/WRPKRU, access- and write-disable), PCIDs in CR3 and the no-flush bit,
;      INVPCID of each type and its #GP cases; the debug registers: an instruction
;      breakpoint (RF lets the instruction run on return), data breakpoints on writes and
;      on reads and writes, general detect, single-step
;   -> back to 32-bit protected mode through compatibility mode, CR4.LA57, 5-level paging:
;      an address above 2^48, a non-canonical one, one that 4-level paging would refuse
;
; Build: Fixtures/guests/build.sh (nasm -f bin -i lib/)

bits 32
org 0x100000

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

    ; The 32-bit IDT: interrupt gates for vectors 0-31.
    xor ecx, ecx
.idt:
    mov eax, [stubs32 + ecx * 4]
    mov [idt32 + ecx * 8], ax
    mov word [idt32 + ecx * 8 + 2], 0x08
    mov word [idt32 + ecx * 8 + 4], 0x8E00
    shr eax, 16
    mov [idt32 + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, 32
    jb .idt
    lidt [idt32_ptr]

    ; --- 32-bit paging ---
    ; PDE 0: 4 MiB identity page (supervisor, writable); PDE 1 -> pt32 (4-8 MiB, 4 KiB pages);
    ; PDE 2: 4 MiB page at 8 MiB, user, read-only; PDE 3: 4 MiB page at 12 MiB, writable.
    mov dword [pd32], 0x83
    mov dword [pd32 + 4], pt32 + 7
    mov dword [pd32 + 8], 0x800000 | 0x85
    mov dword [pd32 + 12], 0xC00000 | 0x83
    xor ecx, ecx
.pt32:
    mov eax, ecx
    shl eax, 12
    add eax, 0x400000 | 3
    mov [pt32 + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jb .pt32
    and dword [pt32 + 0 * 4], ~2      ; 0x400000: read-only
    and dword [pt32 + 1 * 4], ~1      ; 0x401000: not present
    mov eax, cr4
    or eax, 0x10                      ; PSE
    mov cr4, eax
    mov eax, pd32
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80010000                ; PG, WP
    mov cr0, eax
    mov esi, msg_paging32
    call print32

    mov dword [resume32], .a1
    mov eax, [0x400000]               ; read-only: reads are fine
    mov byte [0x400000], 1            ; #PF 3 (P, W)
.a1:
    mov dword [resume32], .a2
    mov eax, [0x401000]               ; #PF 0 (not present)
.a2:
    mov dword [resume32], .a3
    mov byte [0x800000], 1            ; a read-only 4 MiB page: #PF 3
.a3:
    ; CR0.WP clear: a supervisor write to a read-only page succeeds.
    mov eax, cr0
    and eax, ~0x10000
    mov cr0, eax
    mov byte [0x400000], 0x5A
    movzx eax, byte [0x400000]
    mov esi, msg_wp
    call print32
    call hex32
    call newline32
    mov eax, cr0
    or eax, 0x10000
    mov cr0, eax
    ; Accessed and dirty bits.
    mov eax, [0x402000]
    mov esi, msg_ad_pte_read
    call print32
    mov eax, [pt32 + 2 * 4]
    and eax, 0x60
    call hex32
    call newline32
    mov dword [0x402000], 7
    mov esi, msg_ad_pte_write
    call print32
    mov eax, [pt32 + 2 * 4]
    and eax, 0x60
    call hex32
    call newline32
    mov esi, msg_ad_pde
    call print32
    mov eax, [pd32 + 4]
    and eax, 0x20                     ; a PDE that references a table has no dirty bit
    call hex32
    call newline32
    mov dword [0xC00010], 7
    mov esi, msg_ad_4m
    call print32
    mov eax, [pd32 + 12]
    and eax, 0xFF
    call hex32
    call newline32

    ; --- PAE paging ---
    mov eax, cr0
    and eax, ~0x80000000
    mov cr0, eax
    mov ecx, 0xC0000080               ; EFER.NXE
    rdmsr
    or eax, 1 << 11
    wrmsr
    ; PDPTE 0 -> pd_pae; PDE 0: 2 MiB identity page; PDE 1 -> pt_pae (0x200000-0x3FFFFF).
    mov dword [pdpt_pae], pd_pae + 1
    mov dword [pd_pae], 0x83
    mov dword [pd_pae + 8], pt_pae + 3
    xor ecx, ecx
.ptpae:
    mov eax, ecx
    shl eax, 12
    add eax, 0x200000 | 3
    mov [pt_pae + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .ptpae
    mov dword [pt_pae + 0 * 8 + 4], 0x80000000   ; 0x200000: execute-disable
    mov dword [pt_pae + 1 * 8 + 4], 0x00080000   ; 0x201000: bit 51 set, reserved
    mov eax, cr4
    or eax, 0x20                      ; PAE
    mov cr4, eax
    mov eax, pdpt_pae
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov esi, msg_pae
    call print32

    mov dword [resume32], .b1
    mov byte [0x200000], 0xC3         ; writable...
    mov eax, 0x200000
    call eax                          ; ...but not executable: #PF 0x11
.b1:
    mov dword [resume32], .b2
    mov eax, [0x201000]               ; #PF 9 (P, RSVD)
.b2:
    mov dword [resume32], .b3
    mov dword [pdpt_pae + 8], pd_pae + 3   ; R/W is reserved in a PDPTE
    mov eax, pdpt_pae
    mov cr3, eax                      ; #GP(0)
.b3:
    mov dword [pdpt_pae + 8], 0

    ; --- to 64-bit mode with 4-level paging ---
    mov eax, cr0
    and eax, ~0x80000000
    mov cr0, eax
    ; PML4 0 -> PDPT; PDPT 0 -> PD; PD 0: 2 MiB identity; PD 1 -> pt64; PD 2-511: 2 MiB identity.
    mov dword [pml4], pdpt + 7
    mov dword [pdpt], pd + 7
    mov dword [pd], 0x83
    mov dword [pd + 8], pt64 + 7
    mov ecx, 2
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov [pd + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .pd
    xor ecx, ecx
.pt64:
    mov eax, ecx
    shl eax, 12
    add eax, 0x200000 | 3
    mov [pt64 + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .pt64
    or dword [pt64 + 5 * 8], 4        ; 0x205000: a user page
    or dword [pt64 + 6 * 8], 4        ; 0x206000: a user page (protection keys)
    mov dword [pt64 + 8 * 8], 0x300003  ; 0x208000 -> 0x300000 (INVPCID)
    mov eax, cr4
    or eax, 0x620                     ; PAE, OSFXSR, OSXMMEXCPT
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8                    ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x18:long64

; The 32-bit exception handler: prints the vector, error code and CR2 (for #PF) and resumes
; at [resume32].
isr32:
    ; [esp] vector, [esp+4] error code, [esp+8] EIP
    pushad
    mov esi, msg_vector
    call print32
    mov eax, [esp + 32]
    call hex32
    mov esi, msg_error
    call print32
    mov eax, [esp + 36]
    call hex32
    cmp dword [esp + 32], 14
    jne .no_cr2
    mov esi, msg_cr2
    call print32
    mov eax, cr2
    call hex32
.no_cr2:
    call newline32
    mov eax, [resume32]
    mov [esp + 40], eax
    popad
    add esp, 8
    iretd

%macro stub32 1
stub32_%1:
%if %1 != 8 && (%1 < 10 || %1 > 14) && %1 != 17 && %1 != 21
    push 0
%endif
    push %1
    jmp isr32
%endmacro
%assign v 0
%rep 32
    stub32 v
%assign v v + 1
%endrep

newline32:
    push eax
    mov al, 10
    call putc32
    pop eax
    ret

%include "serial32.inc"

; ---------------------------------------------------------------------------------------
bits 64
long64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, stack_top
    ; The 64-bit IDT: interrupt gates for vectors 0-31.
    xor ecx, ecx
.idt:
    mov rax, [stubs64 + rcx * 8]
    mov rdi, rcx
    shl rdi, 4
    add rdi, idt64
    mov [rdi], ax
    mov word [rdi + 2], 0x18
    mov word [rdi + 4], 0x8E00
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    inc ecx
    cmp ecx, 32
    jb .idt
    lidt [idt64_ptr]
    mov rsi, msg_long
    call print64

    ; What CPUID says about the features below.
    mov eax, 7
    xor ecx, ecx
    cpuid
    mov eax, ebx
    and eax, (1 << 7) | (1 << 10) | (1 << 20)   ; SMEP, INVPCID, SMAP
    mov rsi, msg_cpuid7b
    call print64
    call hex64
    call newline
    mov eax, ecx
    and eax, (1 << 3) | (1 << 16)                 ; PKU, LA57
    mov rsi, msg_cpuid7c
    call print64
    call hex64
    call newline
    mov eax, 1
    cpuid
    mov eax, ecx
    and eax, 1 << 17                              ; PCID
    mov rsi, msg_cpuid1c
    call print64
    call hex64
    call newline

    ; --- SMEP ---
    mov byte [0x205000], 0xC3         ; a RET on a user page
    mov rax, cr4
    or rax, 1 << 20
    mov cr4, rax
    mov qword [resume], .c1
    mov rax, 0x205000
    call rax                          ; #PF 0x11: a supervisor fetch from a user page
.c1:
    ; --- SMAP ---
    mov rax, cr4
    or rax, 1 << 21
    mov cr4, rax
    mov qword [resume], .c2
    mov al, [0x205000]                ; #PF 1: a supervisor read of a user page, AC clear
.c2:
    stac
    movzx eax, byte [0x205000]        ; allowed with AC set
    clac
    mov rsi, msg_stac
    call print64
    call hex64
    call newline
    mov qword [resume], .c3
    mov al, [0x205000]                ; #PF 1 again: what AC allowed serves no access without it
.c3:
    stac
    mov byte [0x205000], 0xc3         ; a supervisor write of a user page, AC set
    clac
    mov qword [resume], .c4
    mov byte [0x205000], 0xc3         ; #PF 3: the same write with AC clear
.c4:

    ; --- protection keys ---
    mov rax, cr4
    or rax, 1 << 22                   ; PKE
    mov cr4, rax
    mov eax, 7
    xor ecx, ecx
    cpuid
    mov eax, ecx
    and eax, 1 << 4                   ; OSPKE follows CR4.PKE
    mov rsi, msg_ospke
    call print64
    call hex64
    call newline
    mov dword [pt64 + 6 * 8 + 4], 1 << (59 - 32)   ; 0x206000: key 1
    invlpg [0x206000]
    mov eax, 1 << 2                   ; key 1: access disable
    xor ecx, ecx
    xor edx, edx
    wrpkru
    xor ecx, ecx
    rdpkru
    mov rsi, msg_pkru
    call print64
    call hex64
    call newline
    stac
    mov qword [resume], .d1
    mov al, [0x206000]                ; #PF 0x21 (P, PK)
.d1:
    mov eax, 1 << 3                   ; key 1: write disable
    xor ecx, ecx
    xor edx, edx
    wrpkru
    mov al, [0x206000]                ; reads are allowed
    mov qword [resume], .d2
    mov byte [0x206000], 1            ; #PF 0x23 (P, W, PK)
.d2:
    mov qword [resume], .d3
    mov ecx, 1
    wrpkru                            ; ECX must be 0: #GP(0)
.d3:
    clac
    xor eax, eax
    xor ecx, ecx
    xor edx, edx
    wrpkru

    ; --- INVLPG of one address in a 2 MiB page drops every 4 KiB of it (SDM vol. 3, 4.10.4.1) ---
    mov byte [0x401000], 0x11
    mov byte [0x601000], 0x22
    mov al, [0x401000]                ; a TLB entry for 0x401000, from the 2 MiB page at 0x400000
    mov dword [pd + 2 * 8], 0x600083  ; now 0x400000 -> 0x600000
    invlpg [0x400000]
    movzx eax, byte [0x401000]        ; 0x22: the entry for 0x401000 went too
    mov rsi, msg_invlpg_large
    call print64
    call hex64
    call newline
    mov dword [pd + 2 * 8], 0x400083
    invlpg [0x5ff000]

    ; --- PCIDs (when CPUID reports them: QEMU's TCG does not, see paging.options) ---
    mov eax, 1
    cpuid
    test ecx, 1 << 17
    jz .no_pcid
    mov qword [resume], .e1
    mov rax, pml4 + 8                 ; PWT set: CR3[11:0] != 0
    mov cr3, rax
    mov rax, cr4
    or rax, 1 << 17                   ; PCIDE with CR3[11:0] != 0: #GP(0)
    mov cr4, rax
.e1:
    mov rax, pml4
    mov cr3, rax
    mov rax, cr4
    or rax, 1 << 17
    mov cr4, rax
    mov rax, pml4 + 1                 ; PCID 1
    mov cr3, rax
    mov rax, cr3
    mov rsi, msg_cr3
    call print64
    call hex64
    call newline
    mov rax, 1 << 63                  ; PCID 2, no flush: bit 63 is not stored
    or rax, pml4 + 2
    mov cr3, rax
    mov rax, cr3
    mov rsi, msg_cr3
    call print64
    call hex64
    call newline
    ; INVPCID type 0 makes a remapped page visible.
    mov qword [0x300000], 0x1111
    mov qword [0x301000], 0x2222
    mov eax, 7
    xor ecx, ecx
    cpuid
    test ebx, 1 << 10
    jz .no_invpcid
    mov rax, [0x208000]
    mov qword [pt64 + 8 * 8], 0x301003
    mov qword [invpcid_desc], 2
    mov qword [invpcid_desc + 8], 0x208000
    xor eax, eax
    invpcid rax, [invpcid_desc]
    mov rax, [0x208000]
    mov rsi, msg_invpcid0
    call print64
    call hex64
    call newline
    mov qword [pt64 + 8 * 8], 0x300003
    mov eax, 1
    invpcid rax, [invpcid_desc]       ; the whole of PCID 2
    mov rax, [0x208000]
    mov rsi, msg_invpcid1
    call print64
    call hex64
    call newline
    mov eax, 2
    invpcid rax, [invpcid_desc]
    mov eax, 3
    invpcid rax, [invpcid_desc]
    mov qword [resume], .f1
    mov eax, 4
    invpcid rax, [invpcid_desc]       ; no type 4: #GP(0)
.f1:
    mov qword [resume], .f2
    mov qword [invpcid_desc], 0x1000  ; a PCID above 4095: #GP(0)
    xor eax, eax
    invpcid rax, [invpcid_desc]
.f2:
    mov qword [resume], .f3
    mov qword [invpcid_desc], 0
    mov rax, 0x0123000000000000       ; a non-canonical address: #GP(0)
    mov [invpcid_desc + 8], rax
    xor eax, eax
    invpcid rax, [invpcid_desc]
.f3:
.no_invpcid:
    mov rax, pml4
    mov cr3, rax
    mov rax, cr4
    and rax, ~(1 << 17)
    mov cr4, rax
.no_pcid:

    ; --- debug registers ---
    mov rax, dr7
    mov rsi, msg_dr7
    call print64
    call hex64
    call newline
    mov rax, dr6
    mov rsi, msg_dr6
    call print64
    call hex64
    call newline
    ; An instruction breakpoint: a fault before the instruction; the handler sets RF.
    mov rax, bp_target
    mov dr0, rax
    mov eax, 1                        ; L0, execute, length 1
    mov dr7, rax
    mov qword [resume], bp_target
    nop
bp_target:
    mov rsi, msg_bp_ran
    call print64
    xor eax, eax
    mov dr7, rax
    mov dr6, rax
    ; A data breakpoint on writes (DR1, 4 bytes): a trap after the store.
    mov rax, watch_var
    mov dr1, rax
    mov eax, 0x00D00004               ; L1, R/W1 = 01, LEN1 = 11
    mov dr7, rax
    mov qword [resume], .g1
    mov eax, [watch_var]              ; a read: nothing
    mov dword [watch_var + 2], 5      ; overlaps: #DB
.g1:
    mov rsi, msg_after_watch
    call print64
    xor eax, eax
    mov dr6, rax
    ; Reads and writes (DR2, 8 bytes).
    mov rax, watch_var
    mov dr2, rax
    mov eax, 0x0B000010               ; L2, R/W2 = 11, LEN2 = 10
    mov dr7, rax
    mov qword [resume], .g2
    mov al, [watch_var + 7]           ; #DB
.g2:
    xor eax, eax
    mov dr6, rax
    ; General detect: the next MOV DR faults.
    mov eax, 0x2000
    mov dr7, rax
    mov qword [resume], .g3
    mov rax, dr0                      ; #DB (BD)
.g3:
    mov rax, dr7
    mov rsi, msg_dr7
    call print64
    call hex64
    call newline
    xor eax, eax
    mov dr7, rax
    mov dr6, rax
    ; Single-step: TF set by POPF traps after the instruction that follows it.
    mov qword [resume], .g4
    pushfq
    or qword [rsp], 0x100
    popfq
    mov eax, 1
.g4:
    xor eax, eax
    mov dr6, rax

    ; --- 5-level paging ---
    mov rax, 0x0001000000000000
    mov qword [resume], .h0
    mov rax, [rax]                    ; non-canonical with 4 levels: #GP(0)
.h0:
    mov qword [0x400000], 0x5555
    ; PML5 0 -> the 4-level tables; PML5 1 -> pml4b -> pdptb -> pdb: 2 MiB page at 0x400000.
    mov qword [pml5], pml4 + 7
    mov qword [pml5 + 8], pml4b + 3
    mov qword [pml4b], pdptb + 3
    mov qword [pdptb], pdb + 3
    mov qword [pdb], 0x400000 | 0x83
    jmp dword far [to_compat]
bits 32
compat:
    mov eax, cr0
    and eax, ~0x80000000              ; paging off: long mode ends
    mov cr0, eax
    mov eax, cr4
    or eax, 1 << 12                   ; LA57
    mov cr4, eax
    mov eax, pml5
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp 0x18:long5
bits 64
long5:
    mov rsp, stack_top
    mov rsi, msg_five
    call print64
    mov rax, cr4
    and rax, 1 << 12
    mov rsi, msg_cr4
    call print64
    call hex64
    call newline
    mov rax, 0x0001000000000000       ; PML5 index 1
    mov rax, [rax]
    mov rsi, msg_high
    call print64
    call hex64
    call newline
    mov qword [resume], .h1
    mov rax, 0x0000800000000000       ; canonical now, but not mapped: #PF 0
    mov rax, [rax]
.h1:
    mov qword [resume], .h2
    mov rax, 0x0100000000000000       ; bit 56 set, 63:57 clear: #GP(0)
    mov rax, [rax]
.h2:
    mov rsi, msg_done
    call print64
    mov al, 0
    out 0xF4, al
    hlt

; The 64-bit exception handler: prints the vector, error code, CR2 (for #PF), DR6 (for #DB),
; and resumes at [resume]; for #DB it sets RF (an instruction breakpoint lets the instruction
; run) and clears TF.
isr64:
    ; [rsp] vector, [rsp+8] error code, [rsp+16] RIP, +24 CS, +32 RFLAGS
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
    cmp qword [rsp + 16], 14
    jne .no_cr2
    mov rsi, msg_cr2
    call print64
    mov rax, cr2
    call hex64
.no_cr2:
    cmp qword [rsp + 16], 1
    jne .no_dr6
    mov rsi, msg_dr6_is
    call print64
    mov rax, dr6
    call hex64
    mov rsi, msg_rip
    call print64
    mov rax, [rsp + 32]
    sub rax, start
    call hex64
    or qword [rsp + 48], 0x10000      ; RF
    and qword [rsp + 48], ~0x100      ; TF
.no_dr6:
    call newline
    mov rax, [resume]
    mov [rsp + 32], rax
    pop rsi
    pop rax
    add rsp, 16
    iretq

%macro stub64 1
stub64_%1:
%if %1 != 8 && (%1 < 10 || %1 > 14) && %1 != 17 && %1 != 21
    push 0
%endif
    push %1
    jmp isr64
%endmacro
%assign v 0
%rep 32
    stub64 v
%assign v v + 1
%endrep

newline:
    push rax
    mov al, 10
    call putc64
    pop rax
    ret

%include "serial64.inc"

stubs32:
%assign v 0
%rep 32
    dd stub32_ %+ v
%assign v v + 1
%endrep
stubs64:
%assign v 0
%rep 32
    dq stub64_ %+ v
%assign v v + 1
%endrep

align 8
gdt:
    dq 0
    dq 0x00CF9B000000FFFF             ; 0x08 code, 32-bit
    dq 0x00CF93000000FFFF             ; 0x10 data
    dq 0x00AF9B000000FFFF             ; 0x18 code, 64-bit
gdt_ptr:
    dw gdt_ptr - gdt - 1
    dd gdt
idt32_ptr:
    dw 32 * 8 - 1
    dd idt32
idt64_ptr:
    dw 32 * 16 - 1
    dq idt64
to_compat:
    dd compat
    dw 0x08
align 8
watch_var: dq 0

msg_paging32:     db "32-bit paging on", 10, 0
msg_wp:           db "CR0.WP clear, supervisor write to a read-only page: ", 0
msg_ad_pte_read:  db "PTE A/D after a read: ", 0
msg_ad_pte_write: db "PTE A/D after a write: ", 0
msg_ad_pde:       db "PDE A: ", 0
msg_ad_4m:        db "4 MiB PDE after a write: ", 0
msg_pae:          db "PAE paging on", 10, 0
msg_long:         db "64-bit mode, 4-level paging", 10, 0
msg_cpuid7b:      db "CPUID 7 EBX SMEP/INVPCID/SMAP: ", 0
msg_cpuid7c:      db "CPUID 7 ECX PKU/LA57: ", 0
msg_cpuid1c:      db "CPUID 1 ECX PCID: ", 0
msg_stac:         db "read with STAC: ", 0
msg_ospke:        db "OSPKE: ", 0
msg_pkru:         db "PKRU: ", 0
msg_cr3:          db "CR3: ", 0
msg_invpcid0:     db "after INVPCID 0: ", 0
msg_invpcid1:     db "after INVPCID 1: ", 0
msg_dr7:          db "DR7: ", 0
msg_dr6:          db "DR6: ", 0
msg_bp_ran:       db "the breakpointed instruction ran", 10, 0
msg_after_watch:  db "after the watched store", 10, 0
msg_five:         db "64-bit mode, 5-level paging", 10, 0
msg_cr4:          db "CR4.LA57: ", 0
msg_high:         db "read above 2^48: ", 0
msg_done:         db "paging: all checks ran", 10, 0
msg_invlpg_large: db "INVLPG in a 2 MiB page, a read of another 4 KiB of it: ", 0
msg_vector:       db "exception ", 0
msg_error:        db " error ", 0
msg_cr2:          db " cr2 ", 0
msg_dr6_is:       db " dr6 ", 0
msg_rip:          db " rip-start ", 0

load_end:

section .bss
alignb 4096
pd32:        resb 4096
pt32:        resb 4096
pdpt_pae:    resb 4096
pd_pae:      resb 4096
pt_pae:      resb 4096
pml5:        resb 4096
pml4:        resb 4096
pdpt:        resb 4096
pd:          resb 4096
pt64:        resb 4096
pml4b:       resb 4096
pdptb:       resb 4096
pdb:         resb 4096
idt32:       resb 4096
idt64:       resb 4096
             resb 8192
stack32_top:
             resb 8192
stack_top:
resume32:    resd 1
alignb 8
resume:      resq 1
invpcid_desc: resq 2
bss_end:
