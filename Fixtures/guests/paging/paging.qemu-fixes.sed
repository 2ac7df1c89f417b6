# QEMU 7.2's TCG, where it departs from the SDM (Fixtures/guests/README.md):
#
# 1. A reserved bit in a present paging-structure entry gives a page-fault error code with
#    both P and RSVD set (SDM vol. 3, 4.7: P is 0 only when a P flag was 0); QEMU leaves P
#    clear (8 instead of 9).
s/^exception 0000000e error 00000008 cr2 00201000$/exception 0000000e error 00000009 cr2 00201000/
# 2. MOV CR3 under PAE paging loads the four PDPTEs and raises #GP(0) when one that is
#    present has a reserved bit set (SDM vol. 3, 4.4.1; vol. 2, MOV to CR3); QEMU does not
#    check them at all, so the guest's #GP line is missing.
/^exception 0000000e error 00000009 cr2 00201000$/a exception 0000000d error 00000000
# 3. DR7.GD (general detect) makes the next MOV to or from a debug register a #DB fault with
#    DR6.BD set, and the processor clears GD for the handler (SDM vol. 3, 18.2.4); QEMU
#    ignores GD, so its MOV RAX, DR0 runs and DR7 still reads 0x2400. (The rip-start value
#    is the MOV's offset in paging.bin: update it if the guest changes.)
s/^DR7: 0000000000002400$/exception 0000000000000001 error 0000000000000000 dr6 00000000ffff2ff0 rip-start 0000000000000abf\nDR7: 0000000000000400/
