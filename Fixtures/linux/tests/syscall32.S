# A 32-bit static program that executes SYSCALL. Under an Intel CPU model SYSCALL outside
# 64-bit mode is #UD: the kernel sends SIGILL and the shell reports status 132 (128 + 4).
# Linux write(2) and exit(2) through int 0x80 (eax 4 and 1).
    .code32
    .globl _start
    .text
_start:
    movl $4, %eax
    movl $1, %ebx
    movl $before, %ecx
    movl $(before_end - before), %edx
    int $0x80
    syscall
    movl $4, %eax
    movl $1, %ebx
    movl $after, %ecx
    movl $(after_end - after), %edx
    int $0x80
    movl $1, %eax
    xorl %ebx, %ebx
    int $0x80
    .data
before: .ascii "syscall32: before SYSCALL\n"
before_end:
after: .ascii "syscall32: after SYSCALL (it returned)\n"
after_end:
