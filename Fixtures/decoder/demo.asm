; Demo listing for `make run`. Build: nasm -f bin -o demo.bin demo.asm
bits 64
org 0x401000
start:
    push rbp
    mov rbp, rsp
    sub rsp, 0x20
    mov rax, [gs:0x28]
    xor ecx, ecx
    lea rsi, [rel message]
.loop:
    movzx eax, byte [rsi + rcx]
    test al, al
    je .done
    add rcx, 1
    jmp .loop
.done:
    movdqu xmm0, [rsi]
    pxor xmm1, xmm1
    pcmpeqb xmm0, xmm1
    pmovmskb edx, xmm0
    vpbroadcastb ymm2, xmm0
    andn eax, ecx, edx
    lock cmpxchg [rdi], ecx
    rep movsb
    cpuid
    fld1
    fstp qword [rsp]
    leave
    ret
message: db "softvmm", 0
