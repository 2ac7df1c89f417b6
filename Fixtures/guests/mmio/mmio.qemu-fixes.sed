# CMPXCHG8B changes only ZF (SDM vol. 2): QEMU 7.2's TCG clears PF as well. The host CPU
# agrees with the SDM (flags 0x44 in, equal operands: 0x44 out).
s/^cmpxchg8b: 0000000000000055 flags 0000000000000040$/cmpxchg8b: 0000000000000055 flags 0000000000000044/
