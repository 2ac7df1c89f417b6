// The three-byte opcode maps 0F 38 xx and 0F 3A xx (SDM vol. 2, appendix A,
// tables ). VEX derivation flags as in TwoByte.swift.

public let threeByte38Spec = """
NP 0F 38 00 /r : pshufb Pq, Qq
66 0F 38 00 /r : pshufb Vx, Wx ; vx
NP 0F 38 01 /r : phaddw Pq, Qq
66 0F 38 01 /r : phaddw Vx, Wx ; vx
NP 0F 38 02 /r : phaddd Pq, Qq
66 0F 38 02 /r : phaddd Vx, Wx ; vx
NP 0F 38 03 /r : phaddsw Pq, Qq
66 0F 38 03 /r : phaddsw Vx, Wx ; vx
NP 0F 38 04 /r : pmaddubsw Pq, Qq
66 0F 38 04 /r : pmaddubsw Vx, Wx ; vx
NP 0F 38 05 /r : phsubw Pq, Qq
66 0F 38 05 /r : phsubw Vx, Wx ; vx
NP 0F 38 06 /r : phsubd Pq, Qq
66 0F 38 06 /r : phsubd Vx, Wx ; vx
NP 0F 38 07 /r : phsubsw Pq, Qq
66 0F 38 07 /r : phsubsw Vx, Wx ; vx
NP 0F 38 08 /r : psignb Pq, Qq
66 0F 38 08 /r : psignb Vx, Wx ; vx
NP 0F 38 09 /r : psignw Pq, Qq
66 0F 38 09 /r : psignw Vx, Wx ; vx
NP 0F 38 0A /r : psignd Pq, Qq
66 0F 38 0A /r : psignd Vx, Wx ; vx
NP 0F 38 0B /r : pmulhrsw Pq, Qq
66 0F 38 0B /r : pmulhrsw Vx, Wx ; vx
66 0F 38 10 /r : pblendvb Vdq, Wdq, XMM0
66 0F 38 14 /r : blendvps Vdq, Wdq, XMM0
66 0F 38 15 /r : blendvpd Vdq, Wdq, XMM0
66 0F 38 17 /r : ptest Vx, Wx ; vx2
NP 0F 38 1C /r : pabsb Pq, Qq
66 0F 38 1C /r : pabsb Vx, Wx ; vx2
NP 0F 38 1D /r : pabsw Pq, Qq
66 0F 38 1D /r : pabsw Vx, Wx ; vx2
NP 0F 38 1E /r : pabsd Pq, Qq
66 0F 38 1E /r : pabsd Vx, Wx ; vx2
66 0F 38 20 /r : pmovsxbw Vx, Wh ; vx2
66 0F 38 21 /r : pmovsxbd Vx, Wqtr ; vx2
66 0F 38 22 /r : pmovsxbq Vx, Woct ; vx2
66 0F 38 23 /r : pmovsxwd Vx, Wh ; vx2
66 0F 38 24 /r : pmovsxwq Vx, Wqtr ; vx2
66 0F 38 25 /r : pmovsxdq Vx, Wh ; vx2
66 0F 38 28 /r : pmuldq Vx, Wx ; vx
66 0F 38 29 /r : pcmpeqq Vx, Wx ; vx
66 0F 38 2A /r m : movntdqa Vx, Mx ; vx2
66 0F 38 2B /r : packusdw Vx, Wx ; vx
66 0F 38 30 /r : pmovzxbw Vx, Wh ; vx2
66 0F 38 31 /r : pmovzxbd Vx, Wqtr ; vx2
66 0F 38 32 /r : pmovzxbq Vx, Woct ; vx2
66 0F 38 33 /r : pmovzxwd Vx, Wh ; vx2
66 0F 38 34 /r : pmovzxwq Vx, Wqtr ; vx2
66 0F 38 35 /r : pmovzxdq Vx, Wh ; vx2
66 0F 38 37 /r : pcmpgtq Vx, Wx ; vx
66 0F 38 38 /r : pminsb Vx, Wx ; vx
66 0F 38 39 /r : pminsd Vx, Wx ; vx
66 0F 38 3A /r : pminuw Vx, Wx ; vx
66 0F 38 3B /r : pminud Vx, Wx ; vx
66 0F 38 3C /r : pmaxsb Vx, Wx ; vx
66 0F 38 3D /r : pmaxsd Vx, Wx ; vx
66 0F 38 3E /r : pmaxuw Vx, Wx ; vx
66 0F 38 3F /r : pmaxud Vx, Wx ; vx
66 0F 38 40 /r : pmulld Vx, Wx ; vx
66 0F 38 41 /r : phminposuw Vdq, Wdq ; v12
66 0F 38 80 /r m : invept Gm, Mdq
66 0F 38 81 /r m : invvpid Gm, Mdq
66 0F 38 82 /r m : invpcid Gm, Mdq
NP 0F 38 C8 /r : sha1nexte Vdq, Wdq
NP 0F 38 C9 /r : sha1msg1 Vdq, Wdq
NP 0F 38 CA /r : sha1msg2 Vdq, Wdq
NP 0F 38 CB /r : sha256rnds2 Vdq, Wdq
NP 0F 38 CC /r : sha256msg1 Vdq, Wdq
NP 0F 38 CD /r : sha256msg2 Vdq, Wdq
66 0F 38 DB /r : aesimc Vdq, Wdq ; v12
66 0F 38 DC /r : aesenc Vdq, Wdq ; v1
66 0F 38 DD /r : aesenclast Vdq, Wdq ; v1
66 0F 38 DE /r : aesdec Vdq, Wdq ; v1
66 0F 38 DF /r : aesdeclast Vdq, Wdq ; v1
F3 0F 38 D8 /0 m : aesencwide128kl Mk384
F3 0F 38 D8 /1 m : aesdecwide128kl Mk384
F3 0F 38 D8 /2 m : aesencwide256kl Mk512
F3 0F 38 D8 /3 m : aesdecwide256kl Mk512
F3 0F 38 DC /r r : loadiwkey Vdq, Udq
F3 0F 38 DC /r m : aesenc128kl Vdq, Mk384
F3 0F 38 DD /r m : aesdec128kl Vdq, Mk384
F3 0F 38 DE /r m : aesenc256kl Vdq, Mk512
F3 0F 38 DF /r m : aesdec256kl Vdq, Mk512
F2 0F 38 F0 /r : crc32 Gy, Eb
F2 0F 38 F1 /r : crc32 Gy, Ev
NF 0F 38 F0 /r m : movbe Gv, Mv
NF 0F 38 F1 /r m : movbe Mv, Gv
66 0F 38 F5 /r m W0 : wrussd Md, Gd
66 0F 38 F5 /r m W1 : wrussq Mq, Gq
NP 0F 38 F6 /r m W0 : wrssd Md, Gd
NP 0F 38 F6 /r m W1 : wrssq Mq, Gq
66 0F 38 F6 /r : adcx Gy, Ey
F3 0F 38 F6 /r : adox Gy, Ey
F3 0F 38 FA /r r : encodekey128 Gd, Rd
F3 0F 38 FB /r r : encodekey256 Gd, Rd
"""

public let threeByte3ASpec = """
66 0F 3A 08 /r : roundps Vx, Wx, Ib ; vx2
66 0F 3A 09 /r : roundpd Vx, Wx, Ib ; vx2
66 0F 3A 0A /r : roundss Vdq, Wd, Ib ; vs
66 0F 3A 0B /r : roundsd Vdq, Wq, Ib ; vs
66 0F 3A 0C /r : blendps Vx, Wx, Ib ; vx
66 0F 3A 0D /r : blendpd Vx, Wx, Ib ; vx
66 0F 3A 0E /r : pblendw Vx, Wx, Ib ; vx
NP 0F 3A 0F /r : palignr Pq, Qq, Ib
66 0F 3A 0F /r : palignr Vx, Wx, Ib ; vx
66 0F 3A 14 /r : pextrb Edb, Vdq, Ib ; v12
66 0F 3A 15 /r : pextrw Edw, Vdq, Ib ; v12
66 0F 3A 16 /r W0 : pextrd Ed, Vdq, Ib ; v12
66 0F 3A 16 /r W1 : pextrq Eq, Vdq, Ib ; v12
66 0F 3A 17 /r : extractps Ed, Vdq, Ib ; v12
66 0F 3A 20 /r : pinsrb Vdq, Edb, Ib ; v1
66 0F 3A 21 /r : insertps Vdq, Wd, Ib ; v1
66 0F 3A 22 /r W0 : pinsrd Vdq, Ed, Ib ; v1
66 0F 3A 22 /r W1 : pinsrq Vdq, Eq, Ib ; v1
66 0F 3A 40 /r : dpps Vx, Wx, Ib ; vx
66 0F 3A 41 /r : dppd Vdq, Wdq, Ib ; v1
66 0F 3A 42 /r : mpsadbw Vx, Wx, Ib ; vx
66 0F 3A 44 /r : pclmulqdq Vdq, Wdq, Ib ; v1
66 0F 3A 60 /r : pcmpestrm Vdq, Wdq, Ib ; v12
66 0F 3A 61 /r : pcmpestri Vdq, Wdq, Ib ; v12
66 0F 3A 62 /r : pcmpistrm Vdq, Wdq, Ib ; v12
66 0F 3A 63 /r : pcmpistri Vdq, Wdq, Ib ; v12
NP 0F 3A CC /r : sha1rnds4 Vdq, Wdq, Ib
66 0F 3A DF /r : aeskeygenassist Vdq, Wdq, Ib ; v12
"""
