# QEMU 7.2's TCG builds the error code of a #GP for an IDT gate in IA-32e mode as
# vector * 16 + 2 (the gate's byte offset); the SDM (vol. 3, 6.13, "Error Code") makes bits
# 3-15 the IDT index, the vector: INT 0x81 through a DPL-0 gate from CPL 3 is #GP(0x40a).
s/^exception 000000000000000d error 0000000000000812 cpl 0000000000000003$/exception 000000000000000d error 000000000000040a cpl 0000000000000003/
