// EVEX-encoded instructions (AVX-512: F, CD, BW, DQ, VL, IFMA, VBMI, VBMI2, VNNI,
// BITALG, VPOPCNTDQ, BF16, VP2INTERSECT, and the EVEX forms of GFNI, VAES and
// VPCLMULQDQ; ER and PF of the Xeon Phi).
//
// Encoding: EVEX.<L>.<pp>.<map>.<W> where L is 128, 256, 512, 256+ (256 and 512),
// L (all three: AVX512VL) or LIG; pp is NP/66/F3/F2; W is W0, W1 or WIG.
// Size "x" is the vector length (16, 32 or 64 bytes); h, qtr and oct are a half, a
// quarter and an eighth of it; zm is 64 bytes. Registers are XMM, YMM or ZMM by size.
//
// Flags:
//   k    a writemask {k1}, merging only      kz   merging or zeroing {k1}{z}
//   k1   a writemask other than k0 is required (gathers and scatters)
//   b4   EVEX.b on memory broadcasts a dword  b8   ... a qword
//   er   EVEX.b on registers: embedded rounding   sae   EVEX.b on registers: {sae}
//   b0   EVEX.b on registers is accepted and ignored (exact conversions; the host CPU agrees)
//   w32  outside 64-bit mode EVEX.W1 reads as this W0 form (its W1 twin is 64-bit only)
//   n1, n2, n4, n8   disp8*N scales by this N instead of the memory size (expand, compress)
// A form without k, kz or k1 has no masking: EVEX.aaa must be 0. A one-byte
// displacement is scaled by the size of the memory access (disp8*N), which for
// every tuple type is the memory operand's size, or the element with broadcast.

public let evexSpec = """
# ---- 0F map ----
EVEX.L.NP.0F.W0 10 /r : vmovups Vx, Wx ; kz
EVEX.L.66.0F.W1 10 /r : vmovupd Vx, Wx ; kz
EVEX.LIG.F3.0F.W0 10 /r m : vmovss Vdq, Md ; kz
EVEX.LIG.F3.0F.W0 10 /r r : vmovss Vdq, Hdq, Udq ; kz
EVEX.LIG.F2.0F.W1 10 /r m : vmovsd Vdq, Mq ; kz
EVEX.LIG.F2.0F.W1 10 /r r : vmovsd Vdq, Hdq, Udq ; kz
EVEX.L.NP.0F.W0 11 /r : vmovups Wx, Vx ; kz
EVEX.L.66.0F.W1 11 /r : vmovupd Wx, Vx ; kz
EVEX.LIG.F3.0F.W0 11 /r m : vmovss Md, Vdq ; k
EVEX.LIG.F3.0F.W0 11 /r r : vmovss Udq, Hdq, Vdq ; kz
EVEX.LIG.F2.0F.W1 11 /r m : vmovsd Mq, Vdq ; k
EVEX.LIG.F2.0F.W1 11 /r r : vmovsd Udq, Hdq, Vdq ; kz
EVEX.128.NP.0F.W0 12 /r r : vmovhlps Vdq, Hdq, Udq
EVEX.128.NP.0F.W0 12 /r m : vmovlps Vdq, Hdq, Mq
EVEX.128.66.0F.W1 12 /r m : vmovlpd Vdq, Hdq, Mq
EVEX.L.F3.0F.W0 12 /r : vmovsldup Vx, Wx ; kz
EVEX.L.F2.0F.W1 12 /r : vmovddup Vx, Wxq ; kz
EVEX.128.NP.0F.W0 13 /r m : vmovlps Mq, Vdq
EVEX.128.66.0F.W1 13 /r m : vmovlpd Mq, Vdq
EVEX.L.NP.0F.W0 14 /r : vunpcklps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 14 /r : vunpcklpd Vx, Hx, Wx ; kz b8
EVEX.L.NP.0F.W0 15 /r : vunpckhps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 15 /r : vunpckhpd Vx, Hx, Wx ; kz b8
EVEX.128.NP.0F.W0 16 /r r : vmovlhps Vdq, Hdq, Udq
EVEX.128.NP.0F.W0 16 /r m : vmovhps Vdq, Hdq, Mq
EVEX.128.66.0F.W1 16 /r m : vmovhpd Vdq, Hdq, Mq
EVEX.L.F3.0F.W0 16 /r : vmovshdup Vx, Wx ; kz
EVEX.128.NP.0F.W0 17 /r m : vmovhps Mq, Vdq
EVEX.128.66.0F.W1 17 /r m : vmovhpd Mq, Vdq
EVEX.L.NP.0F.W0 28 /r : vmovaps Vx, Wx ; kz
EVEX.L.66.0F.W1 28 /r : vmovapd Vx, Wx ; kz
EVEX.L.NP.0F.W0 29 /r : vmovaps Wx, Vx ; kz
EVEX.L.66.0F.W1 29 /r : vmovapd Wx, Vx ; kz
EVEX.LIG.F3.0F.W0 2A /r : vcvtsi2ss Vdq, Hdq, Ed ; er w32
EVEX.LIG.F3.0F.W1 2A /r : vcvtsi2ss Vdq, Hdq, Eq ; er o64
EVEX.LIG.F2.0F.W0 2A /r : vcvtsi2sd Vdq, Hdq, Ed ; b0 w32
EVEX.LIG.F2.0F.W1 2A /r : vcvtsi2sd Vdq, Hdq, Eq ; er o64
EVEX.L.NP.0F.W0 2B /r m : vmovntps Mx, Vx
EVEX.L.66.0F.W1 2B /r m : vmovntpd Mx, Vx
EVEX.LIG.F3.0F.W0 2C /r : vcvttss2si Gd, Wd ; sae w32
EVEX.LIG.F3.0F.W1 2C /r : vcvttss2si Gq, Wd ; sae o64
EVEX.LIG.F2.0F.W0 2C /r : vcvttsd2si Gd, Wq ; sae w32
EVEX.LIG.F2.0F.W1 2C /r : vcvttsd2si Gq, Wq ; sae o64
EVEX.LIG.F3.0F.W0 2D /r : vcvtss2si Gd, Wd ; er w32
EVEX.LIG.F3.0F.W1 2D /r : vcvtss2si Gq, Wd ; er o64
EVEX.LIG.F2.0F.W0 2D /r : vcvtsd2si Gd, Wq ; er w32
EVEX.LIG.F2.0F.W1 2D /r : vcvtsd2si Gq, Wq ; er o64
EVEX.LIG.NP.0F.W0 2E /r : vucomiss Vdq, Wd ; sae
EVEX.LIG.66.0F.W1 2E /r : vucomisd Vdq, Wq ; sae
EVEX.LIG.NP.0F.W0 2F /r : vcomiss Vdq, Wd ; sae
EVEX.LIG.66.0F.W1 2F /r : vcomisd Vdq, Wq ; sae
EVEX.L.NP.0F.W0 51 /r : vsqrtps Vx, Wx ; kz b4 er
EVEX.L.66.0F.W1 51 /r : vsqrtpd Vx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 51 /r : vsqrtss Vdq, Hdq, Wd ; kz er
EVEX.LIG.F2.0F.W1 51 /r : vsqrtsd Vdq, Hdq, Wq ; kz er
EVEX.L.NP.0F.W0 54 /r : vandps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 54 /r : vandpd Vx, Hx, Wx ; kz b8
EVEX.L.NP.0F.W0 55 /r : vandnps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 55 /r : vandnpd Vx, Hx, Wx ; kz b8
EVEX.L.NP.0F.W0 56 /r : vorps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 56 /r : vorpd Vx, Hx, Wx ; kz b8
EVEX.L.NP.0F.W0 57 /r : vxorps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 57 /r : vxorpd Vx, Hx, Wx ; kz b8
EVEX.L.NP.0F.W0 58 /r : vaddps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F.W1 58 /r : vaddpd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 58 /r : vaddss Vdq, Hdq, Wd ; kz er
EVEX.LIG.F2.0F.W1 58 /r : vaddsd Vdq, Hdq, Wq ; kz er
EVEX.L.NP.0F.W0 59 /r : vmulps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F.W1 59 /r : vmulpd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 59 /r : vmulss Vdq, Hdq, Wd ; kz er
EVEX.LIG.F2.0F.W1 59 /r : vmulsd Vdq, Hdq, Wq ; kz er
EVEX.L.NP.0F.W0 5A /r : vcvtps2pd Vx, Wh ; kz b4 sae
EVEX.L.66.0F.W1 5A /r : vcvtpd2ps Vh, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 5A /r : vcvtss2sd Vdq, Hdq, Wd ; kz sae
EVEX.LIG.F2.0F.W1 5A /r : vcvtsd2ss Vdq, Hdq, Wq ; kz er
EVEX.L.NP.0F.W0 5B /r : vcvtdq2ps Vx, Wx ; kz b4 er
EVEX.L.NP.0F.W1 5B /r : vcvtqq2ps Vh, Wx ; kz b8 er
EVEX.L.66.0F.W0 5B /r : vcvtps2dq Vx, Wx ; kz b4 er
EVEX.L.F3.0F.W0 5B /r : vcvttps2dq Vx, Wx ; kz b4 sae
EVEX.L.NP.0F.W0 5C /r : vsubps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F.W1 5C /r : vsubpd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 5C /r : vsubss Vdq, Hdq, Wd ; kz er
EVEX.LIG.F2.0F.W1 5C /r : vsubsd Vdq, Hdq, Wq ; kz er
EVEX.L.NP.0F.W0 5D /r : vminps Vx, Hx, Wx ; kz b4 sae
EVEX.L.66.0F.W1 5D /r : vminpd Vx, Hx, Wx ; kz b8 sae
EVEX.LIG.F3.0F.W0 5D /r : vminss Vdq, Hdq, Wd ; kz sae
EVEX.LIG.F2.0F.W1 5D /r : vminsd Vdq, Hdq, Wq ; kz sae
EVEX.L.NP.0F.W0 5E /r : vdivps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F.W1 5E /r : vdivpd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 5E /r : vdivss Vdq, Hdq, Wd ; kz er
EVEX.LIG.F2.0F.W1 5E /r : vdivsd Vdq, Hdq, Wq ; kz er
EVEX.L.NP.0F.W0 5F /r : vmaxps Vx, Hx, Wx ; kz b4 sae
EVEX.L.66.0F.W1 5F /r : vmaxpd Vx, Hx, Wx ; kz b8 sae
EVEX.LIG.F3.0F.W0 5F /r : vmaxss Vdq, Hdq, Wd ; kz sae
EVEX.LIG.F2.0F.W1 5F /r : vmaxsd Vdq, Hdq, Wq ; kz sae
EVEX.L.66.0F.WIG 60 /r : vpunpcklbw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG 61 /r : vpunpcklwd Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 62 /r : vpunpckldq Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.WIG 63 /r : vpacksswb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG 64 /r : vpcmpgtb KG, Hx, Wx ; k
EVEX.L.66.0F.WIG 65 /r : vpcmpgtw KG, Hx, Wx ; k
EVEX.L.66.0F.W0 66 /r : vpcmpgtd KG, Hx, Wx ; k b4
EVEX.L.66.0F.WIG 67 /r : vpackuswb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG 68 /r : vpunpckhbw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG 69 /r : vpunpckhwd Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 6A /r : vpunpckhdq Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W0 6B /r : vpackssdw Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 6C /r : vpunpcklqdq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.W1 6D /r : vpunpckhqdq Vx, Hx, Wx ; kz b8
EVEX.128.66.0F.W0 6E /r : vmovd Vdq, Ed ; w32
EVEX.128.66.0F.W1 6E /r : vmovq Vdq, Eq ; o64
EVEX.L.66.0F.W0 6F /r : vmovdqa32 Vx, Wx ; kz
EVEX.L.66.0F.W1 6F /r : vmovdqa64 Vx, Wx ; kz
EVEX.L.F3.0F.W0 6F /r : vmovdqu32 Vx, Wx ; kz
EVEX.L.F3.0F.W1 6F /r : vmovdqu64 Vx, Wx ; kz
EVEX.L.F2.0F.W0 6F /r : vmovdqu8 Vx, Wx ; kz
EVEX.L.F2.0F.W1 6F /r : vmovdqu16 Vx, Wx ; kz
EVEX.L.66.0F.W0 70 /r : vpshufd Vx, Wx, Ib ; kz b4
EVEX.L.F3.0F.WIG 70 /r : vpshufhw Vx, Wx, Ib ; kz
EVEX.L.F2.0F.WIG 70 /r : vpshuflw Vx, Wx, Ib ; kz
EVEX.L.66.0F.WIG 71 /2 : vpsrlw Hx, Wx, Ib ; kz
EVEX.L.66.0F.WIG 71 /4 : vpsraw Hx, Wx, Ib ; kz
EVEX.L.66.0F.WIG 71 /6 : vpsllw Hx, Wx, Ib ; kz
EVEX.L.66.0F.W0 72 /0 : vprord Hx, Wx, Ib ; kz b4
EVEX.L.66.0F.W1 72 /0 : vprorq Hx, Wx, Ib ; kz b8
EVEX.L.66.0F.W0 72 /1 : vprold Hx, Wx, Ib ; kz b4
EVEX.L.66.0F.W1 72 /1 : vprolq Hx, Wx, Ib ; kz b8
EVEX.L.66.0F.W0 72 /2 : vpsrld Hx, Wx, Ib ; kz b4
EVEX.L.66.0F.W0 72 /4 : vpsrad Hx, Wx, Ib ; kz b4
EVEX.L.66.0F.W1 72 /4 : vpsraq Hx, Wx, Ib ; kz b8
EVEX.L.66.0F.W0 72 /6 : vpslld Hx, Wx, Ib ; kz b4
EVEX.L.66.0F.W1 73 /2 : vpsrlq Hx, Wx, Ib ; kz b8
EVEX.L.66.0F.WIG 73 /3 : vpsrldq Hx, Wx, Ib
EVEX.L.66.0F.W1 73 /6 : vpsllq Hx, Wx, Ib ; kz b8
EVEX.L.66.0F.WIG 73 /7 : vpslldq Hx, Wx, Ib
EVEX.L.66.0F.WIG 74 /r : vpcmpeqb KG, Hx, Wx ; k
EVEX.L.66.0F.WIG 75 /r : vpcmpeqw KG, Hx, Wx ; k
EVEX.L.66.0F.W0 76 /r : vpcmpeqd KG, Hx, Wx ; k b4
EVEX.L.NP.0F.W0 78 /r : vcvttps2udq Vx, Wx ; kz b4 sae
EVEX.L.NP.0F.W1 78 /r : vcvttpd2udq Vh, Wx ; kz b8 sae
EVEX.L.66.0F.W0 78 /r : vcvttps2uqq Vx, Wh ; kz b4 sae
EVEX.L.66.0F.W1 78 /r : vcvttpd2uqq Vx, Wx ; kz b8 sae
EVEX.LIG.F3.0F.W0 78 /r : vcvttss2usi Gd, Wd ; sae w32
EVEX.LIG.F3.0F.W1 78 /r : vcvttss2usi Gq, Wd ; sae o64
EVEX.LIG.F2.0F.W0 78 /r : vcvttsd2usi Gd, Wq ; sae w32
EVEX.LIG.F2.0F.W1 78 /r : vcvttsd2usi Gq, Wq ; sae o64
EVEX.L.NP.0F.W0 79 /r : vcvtps2udq Vx, Wx ; kz b4 er
EVEX.L.NP.0F.W1 79 /r : vcvtpd2udq Vh, Wx ; kz b8 er
EVEX.L.66.0F.W0 79 /r : vcvtps2uqq Vx, Wh ; kz b4 er
EVEX.L.66.0F.W1 79 /r : vcvtpd2uqq Vx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 79 /r : vcvtss2usi Gd, Wd ; er w32
EVEX.LIG.F3.0F.W1 79 /r : vcvtss2usi Gq, Wd ; er o64
EVEX.LIG.F2.0F.W0 79 /r : vcvtsd2usi Gd, Wq ; er w32
EVEX.LIG.F2.0F.W1 79 /r : vcvtsd2usi Gq, Wq ; er o64
EVEX.L.66.0F.W0 7A /r : vcvttps2qq Vx, Wh ; kz b4 sae
EVEX.L.66.0F.W1 7A /r : vcvttpd2qq Vx, Wx ; kz b8 sae
EVEX.L.F3.0F.W0 7A /r : vcvtudq2pd Vx, Wh ; kz b4 b0
EVEX.L.F3.0F.W1 7A /r : vcvtuqq2pd Vx, Wx ; kz b8 er
EVEX.L.F2.0F.W0 7A /r : vcvtudq2ps Vx, Wx ; kz b4 er
EVEX.L.F2.0F.W1 7A /r : vcvtuqq2ps Vh, Wx ; kz b8 er
EVEX.L.66.0F.W0 7B /r : vcvtps2qq Vx, Wh ; kz b4 er
EVEX.L.66.0F.W1 7B /r : vcvtpd2qq Vx, Wx ; kz b8 er
EVEX.LIG.F3.0F.W0 7B /r : vcvtusi2ss Vdq, Hdq, Ed ; er w32
EVEX.LIG.F3.0F.W1 7B /r : vcvtusi2ss Vdq, Hdq, Eq ; er o64
EVEX.LIG.F2.0F.W0 7B /r : vcvtusi2sd Vdq, Hdq, Ed ; b0 w32
EVEX.LIG.F2.0F.W1 7B /r : vcvtusi2sd Vdq, Hdq, Eq ; er o64
EVEX.128.66.0F.W0 7E /r : vmovd Ed, Vdq ; w32
EVEX.128.66.0F.W1 7E /r : vmovq Eq, Vdq ; o64
EVEX.128.F3.0F.W1 7E /r : vmovq Vdq, Wq
EVEX.L.66.0F.W0 7F /r : vmovdqa32 Wx, Vx ; kz
EVEX.L.66.0F.W1 7F /r : vmovdqa64 Wx, Vx ; kz
EVEX.L.F3.0F.W0 7F /r : vmovdqu32 Wx, Vx ; kz
EVEX.L.F3.0F.W1 7F /r : vmovdqu64 Wx, Vx ; kz
EVEX.L.F2.0F.W0 7F /r : vmovdqu8 Wx, Vx ; kz
EVEX.L.F2.0F.W1 7F /r : vmovdqu16 Wx, Vx ; kz
EVEX.L.NP.0F.W0 C2 /r : vcmpps KG, Hx, Wx, Ib ; k b4 sae
EVEX.L.66.0F.W1 C2 /r : vcmppd KG, Hx, Wx, Ib ; k b8 sae
EVEX.LIG.F3.0F.W0 C2 /r : vcmpss KG, Hdq, Wd, Ib ; k sae
EVEX.LIG.F2.0F.W1 C2 /r : vcmpsd KG, Hdq, Wq, Ib ; k sae
EVEX.128.66.0F.WIG C4 /r : vpinsrw Vdq, Hdq, Edw, Ib
EVEX.128.66.0F.WIG C5 /r r : vpextrw Gd, Udq, Ib
EVEX.L.NP.0F.W0 C6 /r : vshufps Vx, Hx, Wx, Ib ; kz b4
EVEX.L.66.0F.W1 C6 /r : vshufpd Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F.WIG D1 /r : vpsrlw Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W0 D2 /r : vpsrld Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W1 D3 /r : vpsrlq Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W1 D4 /r : vpaddq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG D5 /r : vpmullw Vx, Hx, Wx ; kz
EVEX.128.66.0F.W1 D6 /r : vmovq Wq, Vdq
EVEX.L.66.0F.WIG D8 /r : vpsubusb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG D9 /r : vpsubusw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG DA /r : vpminub Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 DB /r : vpandd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 DB /r : vpandq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG DC /r : vpaddusb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG DD /r : vpaddusw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG DE /r : vpmaxub Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 DF /r : vpandnd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 DF /r : vpandnq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG E0 /r : vpavgb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG E1 /r : vpsraw Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W0 E2 /r : vpsrad Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W1 E2 /r : vpsraq Vx, Hx, Wdq ; kz
EVEX.L.66.0F.WIG E3 /r : vpavgw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG E4 /r : vpmulhuw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG E5 /r : vpmulhw Vx, Hx, Wx ; kz
EVEX.L.66.0F.W1 E6 /r : vcvttpd2dq Vh, Wx ; kz b8 sae
EVEX.L.F3.0F.W0 E6 /r : vcvtdq2pd Vx, Wh ; kz b4 b0
EVEX.L.F3.0F.W1 E6 /r : vcvtqq2pd Vx, Wx ; kz b8 er
EVEX.L.F2.0F.W1 E6 /r : vcvtpd2dq Vh, Wx ; kz b8 er
EVEX.L.66.0F.W0 E7 /r m : vmovntdq Mx, Vx
EVEX.L.66.0F.WIG E8 /r : vpsubsb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG E9 /r : vpsubsw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG EA /r : vpminsw Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 EB /r : vpord Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 EB /r : vporq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG EC /r : vpaddsb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG ED /r : vpaddsw Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG EE /r : vpmaxsw Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 EF /r : vpxord Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 EF /r : vpxorq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG F1 /r : vpsllw Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W0 F2 /r : vpslld Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W1 F3 /r : vpsllq Vx, Hx, Wdq ; kz
EVEX.L.66.0F.W1 F4 /r : vpmuludq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG F5 /r : vpmaddwd Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG F6 /r : vpsadbw Vx, Hx, Wx
EVEX.L.66.0F.WIG F8 /r : vpsubb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG F9 /r : vpsubw Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 FA /r : vpsubd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F.W1 FB /r : vpsubq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F.WIG FC /r : vpaddb Vx, Hx, Wx ; kz
EVEX.L.66.0F.WIG FD /r : vpaddw Vx, Hx, Wx ; kz
EVEX.L.66.0F.W0 FE /r : vpaddd Vx, Hx, Wx ; kz b4
"""
