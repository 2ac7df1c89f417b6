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

# ---- 0F38 map ----
EVEX.L.66.0F38.WIG 00 /r : vpshufb Vx, Hx, Wx ; kz
EVEX.L.66.0F38.WIG 04 /r : vpmaddubsw Vx, Hx, Wx ; kz
EVEX.L.66.0F38.WIG 0B /r : vpmulhrsw Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 0C /r : vpermilps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 0D /r : vpermilpd Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W1 10 /r : vpsrlvw Vx, Hx, Wx ; kz
EVEX.L.F3.0F38.W0 10 /r : vpmovuswb Wh, Vx ; kz
EVEX.L.66.0F38.W1 11 /r : vpsravw Vx, Hx, Wx ; kz
EVEX.L.F3.0F38.W0 11 /r : vpmovusdb Wqtr, Vx ; kz
EVEX.L.66.0F38.W1 12 /r : vpsllvw Vx, Hx, Wx ; kz
EVEX.L.F3.0F38.W0 12 /r : vpmovusqb Woct, Vx ; kz
EVEX.L.66.0F38.W0 13 /r : vcvtph2ps Vx, Wh ; kz sae
EVEX.L.F3.0F38.W0 13 /r : vpmovusdw Wh, Vx ; kz
EVEX.L.66.0F38.W0 14 /r : vprorvd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 14 /r : vprorvq Vx, Hx, Wx ; kz b8
EVEX.L.F3.0F38.W0 14 /r : vpmovusqw Wqtr, Vx ; kz
EVEX.L.66.0F38.W0 15 /r : vprolvd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 15 /r : vprolvq Vx, Hx, Wx ; kz b8
EVEX.L.F3.0F38.W0 15 /r : vpmovusqd Wh, Vx ; kz
EVEX.256+.66.0F38.W0 16 /r : vpermps Vx, Hx, Wx ; kz b4
EVEX.256+.66.0F38.W1 16 /r : vpermpd Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 18 /r : vbroadcastss Vx, Wd ; kz
EVEX.256+.66.0F38.W0 19 /r : vbroadcastf32x2 Vx, Wq ; kz
EVEX.256+.66.0F38.W1 19 /r : vbroadcastsd Vx, Wq ; kz
EVEX.256+.66.0F38.W0 1A /r m : vbroadcastf32x4 Vx, Mdq ; kz
EVEX.256+.66.0F38.W1 1A /r m : vbroadcastf64x2 Vx, Mdq ; kz
EVEX.512.66.0F38.W0 1B /r m : vbroadcastf32x8 Vx, Mqq ; kz
EVEX.512.66.0F38.W1 1B /r m : vbroadcastf64x4 Vx, Mqq ; kz
EVEX.L.66.0F38.WIG 1C /r : vpabsb Vx, Wx ; kz
EVEX.L.66.0F38.WIG 1D /r : vpabsw Vx, Wx ; kz
EVEX.L.66.0F38.W0 1E /r : vpabsd Vx, Wx ; kz b4
EVEX.L.66.0F38.W1 1F /r : vpabsq Vx, Wx ; kz b8
EVEX.L.66.0F38.WIG 20 /r : vpmovsxbw Vx, Wh ; kz
EVEX.L.F3.0F38.W0 20 /r : vpmovswb Wh, Vx ; kz
EVEX.L.66.0F38.WIG 21 /r : vpmovsxbd Vx, Wqtr ; kz
EVEX.L.F3.0F38.W0 21 /r : vpmovsdb Wqtr, Vx ; kz
EVEX.L.66.0F38.WIG 22 /r : vpmovsxbq Vx, Woct ; kz
EVEX.L.F3.0F38.W0 22 /r : vpmovsqb Woct, Vx ; kz
EVEX.L.66.0F38.WIG 23 /r : vpmovsxwd Vx, Wh ; kz
EVEX.L.F3.0F38.W0 23 /r : vpmovsdw Wh, Vx ; kz
EVEX.L.66.0F38.WIG 24 /r : vpmovsxwq Vx, Wqtr ; kz
EVEX.L.F3.0F38.W0 24 /r : vpmovsqw Wqtr, Vx ; kz
EVEX.L.66.0F38.W0 25 /r : vpmovsxdq Vx, Wh ; kz
EVEX.L.F3.0F38.W0 25 /r : vpmovsqd Wh, Vx ; kz
EVEX.L.66.0F38.W0 26 /r : vptestmb KG, Hx, Wx ; k
EVEX.L.66.0F38.W1 26 /r : vptestmw KG, Hx, Wx ; k
EVEX.L.F3.0F38.W0 26 /r : vptestnmb KG, Hx, Wx ; k
EVEX.L.F3.0F38.W1 26 /r : vptestnmw KG, Hx, Wx ; k
EVEX.L.66.0F38.W0 27 /r : vptestmd KG, Hx, Wx ; k b4
EVEX.L.66.0F38.W1 27 /r : vptestmq KG, Hx, Wx ; k b8
EVEX.L.F3.0F38.W0 27 /r : vptestnmd KG, Hx, Wx ; k b4
EVEX.L.F3.0F38.W1 27 /r : vptestnmq KG, Hx, Wx ; k b8
EVEX.L.66.0F38.W1 28 /r : vpmuldq Vx, Hx, Wx ; kz b8
EVEX.L.F3.0F38.W0 28 /r r : vpmovm2b Vx, KR
EVEX.L.F3.0F38.W1 28 /r r : vpmovm2w Vx, KR
EVEX.L.66.0F38.W1 29 /r : vpcmpeqq KG, Hx, Wx ; k b8
EVEX.L.F3.0F38.W0 29 /r r : vpmovb2m KG, Ux
EVEX.L.F3.0F38.W1 29 /r r : vpmovw2m KG, Ux
EVEX.L.66.0F38.W0 2A /r m : vmovntdqa Vx, Mx
EVEX.L.F3.0F38.W1 2A /r r : vpbroadcastmb2q Vx, KR
EVEX.L.66.0F38.W0 2B /r : vpackusdw Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W0 2C /r : vscalefps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 2C /r : vscalefpd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 2D /r : vscalefss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 2D /r : vscalefsd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.WIG 30 /r : vpmovzxbw Vx, Wh ; kz
EVEX.L.F3.0F38.W0 30 /r : vpmovwb Wh, Vx ; kz
EVEX.L.66.0F38.WIG 31 /r : vpmovzxbd Vx, Wqtr ; kz
EVEX.L.F3.0F38.W0 31 /r : vpmovdb Wqtr, Vx ; kz
EVEX.L.66.0F38.WIG 32 /r : vpmovzxbq Vx, Woct ; kz
EVEX.L.F3.0F38.W0 32 /r : vpmovqb Woct, Vx ; kz
EVEX.L.66.0F38.WIG 33 /r : vpmovzxwd Vx, Wh ; kz
EVEX.L.F3.0F38.W0 33 /r : vpmovdw Wh, Vx ; kz
EVEX.L.66.0F38.WIG 34 /r : vpmovzxwq Vx, Wqtr ; kz
EVEX.L.F3.0F38.W0 34 /r : vpmovqw Wqtr, Vx ; kz
EVEX.L.66.0F38.W0 35 /r : vpmovzxdq Vx, Wh ; kz
EVEX.L.F3.0F38.W0 35 /r : vpmovqd Wh, Vx ; kz
EVEX.256+.66.0F38.W0 36 /r : vpermd Vx, Hx, Wx ; kz b4
EVEX.256+.66.0F38.W1 36 /r : vpermq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W1 37 /r : vpcmpgtq KG, Hx, Wx ; k b8
EVEX.L.66.0F38.WIG 38 /r : vpminsb Vx, Hx, Wx ; kz
EVEX.L.F3.0F38.W0 38 /r r : vpmovm2d Vx, KR
EVEX.L.F3.0F38.W1 38 /r r : vpmovm2q Vx, KR
EVEX.L.66.0F38.W0 39 /r : vpminsd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 39 /r : vpminsq Vx, Hx, Wx ; kz b8
EVEX.L.F3.0F38.W0 39 /r r : vpmovd2m KG, Ux
EVEX.L.F3.0F38.W1 39 /r r : vpmovq2m KG, Ux
EVEX.L.66.0F38.WIG 3A /r : vpminuw Vx, Hx, Wx ; kz
EVEX.L.F3.0F38.W0 3A /r r : vpbroadcastmw2d Vx, KR
EVEX.L.66.0F38.W0 3B /r : vpminud Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 3B /r : vpminuq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.WIG 3C /r : vpmaxsb Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 3D /r : vpmaxsd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 3D /r : vpmaxsq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.WIG 3E /r : vpmaxuw Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 3F /r : vpmaxud Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 3F /r : vpmaxuq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 40 /r : vpmulld Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 40 /r : vpmullq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 42 /r : vgetexpps Vx, Wx ; kz b4 sae
EVEX.L.66.0F38.W1 42 /r : vgetexppd Vx, Wx ; kz b8 sae
EVEX.LIG.66.0F38.W0 43 /r : vgetexpss Vdq, Hdq, Wd ; kz sae
EVEX.LIG.66.0F38.W1 43 /r : vgetexpsd Vdq, Hdq, Wq ; kz sae
EVEX.L.66.0F38.W0 44 /r : vplzcntd Vx, Wx ; kz b4
EVEX.L.66.0F38.W1 44 /r : vplzcntq Vx, Wx ; kz b8
EVEX.L.66.0F38.W0 45 /r : vpsrlvd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 45 /r : vpsrlvq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 46 /r : vpsravd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 46 /r : vpsravq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 47 /r : vpsllvd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 47 /r : vpsllvq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 4C /r : vrcp14ps Vx, Wx ; kz b4
EVEX.L.66.0F38.W1 4C /r : vrcp14pd Vx, Wx ; kz b8
EVEX.LIG.66.0F38.W0 4D /r : vrcp14ss Vdq, Hdq, Wd ; kz
EVEX.LIG.66.0F38.W1 4D /r : vrcp14sd Vdq, Hdq, Wq ; kz
EVEX.L.66.0F38.W0 4E /r : vrsqrt14ps Vx, Wx ; kz b4
EVEX.L.66.0F38.W1 4E /r : vrsqrt14pd Vx, Wx ; kz b8
EVEX.LIG.66.0F38.W0 4F /r : vrsqrt14ss Vdq, Hdq, Wd ; kz
EVEX.LIG.66.0F38.W1 4F /r : vrsqrt14sd Vdq, Hdq, Wq ; kz
EVEX.L.66.0F38.W0 50 /r : vpdpbusd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W0 51 /r : vpdpbusds Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W0 52 /r : vpdpwssd Vx, Hx, Wx ; kz b4
EVEX.L.F3.0F38.W0 52 /r : vdpbf16ps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W0 53 /r : vpdpwssds Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W0 54 /r : vpopcntb Vx, Wx ; kz
EVEX.L.66.0F38.W1 54 /r : vpopcntw Vx, Wx ; kz
EVEX.L.66.0F38.W0 55 /r : vpopcntd Vx, Wx ; kz b4
EVEX.L.66.0F38.W1 55 /r : vpopcntq Vx, Wx ; kz b8
EVEX.L.66.0F38.W0 58 /r : vpbroadcastd Vx, Wd ; kz
EVEX.L.66.0F38.W0 59 /r : vbroadcasti32x2 Vx, Wq ; kz
EVEX.L.66.0F38.W1 59 /r : vpbroadcastq Vx, Wq ; kz
EVEX.256+.66.0F38.W0 5A /r m : vbroadcasti32x4 Vx, Mdq ; kz
EVEX.256+.66.0F38.W1 5A /r m : vbroadcasti64x2 Vx, Mdq ; kz
EVEX.512.66.0F38.W0 5B /r m : vbroadcasti32x8 Vx, Mqq ; kz
EVEX.512.66.0F38.W1 5B /r m : vbroadcasti64x4 Vx, Mqq ; kz
EVEX.L.66.0F38.W0 62 /r : vpexpandb Vx, Wx ; kz n1
EVEX.L.66.0F38.W1 62 /r : vpexpandw Vx, Wx ; kz n2
EVEX.L.66.0F38.W0 63 /r : vpcompressb Wx, Vx ; kz n1
EVEX.L.66.0F38.W1 63 /r : vpcompressw Wx, Vx ; kz n2
EVEX.L.66.0F38.W0 64 /r : vpblendmd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 64 /r : vpblendmq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 65 /r : vblendmps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 65 /r : vblendmpd Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 66 /r : vpblendmb Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W1 66 /r : vpblendmw Vx, Hx, Wx ; kz
EVEX.L.F2.0F38.W0 68 /r : vp2intersectd KG, Hx, Wx ; b4
EVEX.L.F2.0F38.W1 68 /r : vp2intersectq KG, Hx, Wx ; b8
EVEX.L.66.0F38.W1 70 /r : vpshldvw Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 71 /r : vpshldvd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 71 /r : vpshldvq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W1 72 /r : vpshrdvw Vx, Hx, Wx ; kz
EVEX.L.F3.0F38.W0 72 /r : vcvtneps2bf16 Vh, Wx ; kz b4
EVEX.L.F2.0F38.W0 72 /r : vcvtne2ps2bf16 Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W0 73 /r : vpshrdvd Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 73 /r : vpshrdvq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 75 /r : vpermi2b Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W1 75 /r : vpermi2w Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 76 /r : vpermi2d Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 76 /r : vpermi2q Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 77 /r : vpermi2ps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 77 /r : vpermi2pd Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 78 /r : vpbroadcastb Vx, Wb ; kz
EVEX.L.66.0F38.W0 79 /r : vpbroadcastw Vx, Ww ; kz
EVEX.L.66.0F38.W0 7A /r r : vpbroadcastb Vx, Rd ; kz
EVEX.L.66.0F38.W0 7B /r r : vpbroadcastw Vx, Rd ; kz
EVEX.L.66.0F38.W0 7C /r r : vpbroadcastd Vx, Rd ; kz w32
EVEX.L.66.0F38.W1 7C /r r : vpbroadcastq Vx, Rq ; kz o64
EVEX.L.66.0F38.W0 7D /r : vpermt2b Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W1 7D /r : vpermt2w Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 7E /r : vpermt2d Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 7E /r : vpermt2q Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 7F /r : vpermt2ps Vx, Hx, Wx ; kz b4
EVEX.L.66.0F38.W1 7F /r : vpermt2pd Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W1 83 /r : vpmultishiftqb Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 88 /r : vexpandps Vx, Wx ; kz n4
EVEX.L.66.0F38.W1 88 /r : vexpandpd Vx, Wx ; kz n8
EVEX.L.66.0F38.W0 89 /r : vpexpandd Vx, Wx ; kz n4
EVEX.L.66.0F38.W1 89 /r : vpexpandq Vx, Wx ; kz n8
EVEX.L.66.0F38.W0 8A /r : vcompressps Wx, Vx ; kz n4
EVEX.L.66.0F38.W1 8A /r : vcompresspd Wx, Vx ; kz n8
EVEX.L.66.0F38.W0 8B /r : vpcompressd Wx, Vx ; kz n4
EVEX.L.66.0F38.W1 8B /r : vpcompressq Wx, Vx ; kz n8
EVEX.L.66.0F38.W0 8D /r : vpermb Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W1 8D /r : vpermw Vx, Hx, Wx ; kz
EVEX.L.66.0F38.W0 8F /r : vpshufbitqmb KG, Hx, Wx ; k
EVEX.L.66.0F38.W0 90 /r m : vpgatherdd Vx, Mvdx ; k1
EVEX.L.66.0F38.W1 90 /r m : vpgatherdq Vx, Mvdh ; k1
EVEX.L.66.0F38.W0 91 /r m : vpgatherqd Vh, Mvqx ; k1
EVEX.L.66.0F38.W1 91 /r m : vpgatherqq Vx, Mvqx ; k1
EVEX.L.66.0F38.W0 92 /r m : vgatherdps Vx, Mvdx ; k1
EVEX.L.66.0F38.W1 92 /r m : vgatherdpd Vx, Mvdh ; k1
EVEX.L.66.0F38.W0 93 /r m : vgatherqps Vh, Mvqx ; k1
EVEX.L.66.0F38.W1 93 /r m : vgatherqpd Vx, Mvqx ; k1
EVEX.L.66.0F38.W0 96 /r : vfmaddsub132ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 96 /r : vfmaddsub132pd Vx, Hx, Wx ; kz b8 er
EVEX.L.66.0F38.W0 97 /r : vfmsubadd132ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 97 /r : vfmsubadd132pd Vx, Hx, Wx ; kz b8 er
EVEX.L.66.0F38.W0 98 /r : vfmadd132ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 98 /r : vfmadd132pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 99 /r : vfmadd132ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 99 /r : vfmadd132sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 9A /r : vfmsub132ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 9A /r : vfmsub132pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 9B /r : vfmsub132ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 9B /r : vfmsub132sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 9C /r : vfnmadd132ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 9C /r : vfnmadd132pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 9D /r : vfnmadd132ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 9D /r : vfnmadd132sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 9E /r : vfnmsub132ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 9E /r : vfnmsub132pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 9F /r : vfnmsub132ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 9F /r : vfnmsub132sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 A0 /r m : vpscatterdd Mvdx, Vx ; k1
EVEX.L.66.0F38.W1 A0 /r m : vpscatterdq Mvdh, Vx ; k1
EVEX.L.66.0F38.W0 A1 /r m : vpscatterqd Mvqx, Vh ; k1
EVEX.L.66.0F38.W1 A1 /r m : vpscatterqq Mvqx, Vx ; k1
EVEX.L.66.0F38.W0 A2 /r m : vscatterdps Mvdx, Vx ; k1
EVEX.L.66.0F38.W1 A2 /r m : vscatterdpd Mvdh, Vx ; k1
EVEX.L.66.0F38.W0 A3 /r m : vscatterqps Mvqx, Vh ; k1
EVEX.L.66.0F38.W1 A3 /r m : vscatterqpd Mvqx, Vx ; k1
EVEX.L.66.0F38.W0 A6 /r : vfmaddsub213ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 A6 /r : vfmaddsub213pd Vx, Hx, Wx ; kz b8 er
EVEX.L.66.0F38.W0 A7 /r : vfmsubadd213ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 A7 /r : vfmsubadd213pd Vx, Hx, Wx ; kz b8 er
EVEX.L.66.0F38.W0 A8 /r : vfmadd213ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 A8 /r : vfmadd213pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 A9 /r : vfmadd213ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 A9 /r : vfmadd213sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 AA /r : vfmsub213ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 AA /r : vfmsub213pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 AB /r : vfmsub213ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 AB /r : vfmsub213sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 AC /r : vfnmadd213ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 AC /r : vfnmadd213pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 AD /r : vfnmadd213ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 AD /r : vfnmadd213sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 AE /r : vfnmsub213ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 AE /r : vfnmsub213pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 AF /r : vfnmsub213ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 AF /r : vfnmsub213sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W1 B4 /r : vpmadd52luq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W1 B5 /r : vpmadd52huq Vx, Hx, Wx ; kz b8
EVEX.L.66.0F38.W0 B6 /r : vfmaddsub231ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 B6 /r : vfmaddsub231pd Vx, Hx, Wx ; kz b8 er
EVEX.L.66.0F38.W0 B7 /r : vfmsubadd231ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 B7 /r : vfmsubadd231pd Vx, Hx, Wx ; kz b8 er
EVEX.L.66.0F38.W0 B8 /r : vfmadd231ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 B8 /r : vfmadd231pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 B9 /r : vfmadd231ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 B9 /r : vfmadd231sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 BA /r : vfmsub231ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 BA /r : vfmsub231pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 BB /r : vfmsub231ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 BB /r : vfmsub231sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 BC /r : vfnmadd231ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 BC /r : vfnmadd231pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 BD /r : vfnmadd231ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 BD /r : vfnmadd231sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 BE /r : vfnmsub231ps Vx, Hx, Wx ; kz b4 er
EVEX.L.66.0F38.W1 BE /r : vfnmsub231pd Vx, Hx, Wx ; kz b8 er
EVEX.LIG.66.0F38.W0 BF /r : vfnmsub231ss Vdq, Hdq, Wd ; kz er
EVEX.LIG.66.0F38.W1 BF /r : vfnmsub231sd Vdq, Hdq, Wq ; kz er
EVEX.L.66.0F38.W0 C4 /r : vpconflictd Vx, Wx ; kz b4
EVEX.L.66.0F38.W1 C4 /r : vpconflictq Vx, Wx ; kz b8
EVEX.512.66.0F38.W0 C6 /1 m : vgatherpf0dps Mvdx ; k1
EVEX.512.66.0F38.W1 C6 /1 m : vgatherpf0dpd Mvdh ; k1
EVEX.512.66.0F38.W0 C6 /2 m : vgatherpf1dps Mvdx ; k1
EVEX.512.66.0F38.W1 C6 /2 m : vgatherpf1dpd Mvdh ; k1
EVEX.512.66.0F38.W0 C6 /5 m : vscatterpf0dps Mvdx ; k1
EVEX.512.66.0F38.W1 C6 /5 m : vscatterpf0dpd Mvdh ; k1
EVEX.512.66.0F38.W0 C6 /6 m : vscatterpf1dps Mvdx ; k1
EVEX.512.66.0F38.W1 C6 /6 m : vscatterpf1dpd Mvdh ; k1
EVEX.512.66.0F38.W0 C7 /1 m : vgatherpf0qps Mvqx ; k1
EVEX.512.66.0F38.W1 C7 /1 m : vgatherpf0qpd Mvqx ; k1
EVEX.512.66.0F38.W0 C7 /2 m : vgatherpf1qps Mvqx ; k1
EVEX.512.66.0F38.W1 C7 /2 m : vgatherpf1qpd Mvqx ; k1
EVEX.512.66.0F38.W0 C7 /5 m : vscatterpf0qps Mvqx ; k1
EVEX.512.66.0F38.W1 C7 /5 m : vscatterpf0qpd Mvqx ; k1
EVEX.512.66.0F38.W0 C7 /6 m : vscatterpf1qps Mvqx ; k1
EVEX.512.66.0F38.W1 C7 /6 m : vscatterpf1qpd Mvqx ; k1
EVEX.512.66.0F38.W0 C8 /r : vexp2ps Vx, Wx ; kz b4 sae
EVEX.512.66.0F38.W1 C8 /r : vexp2pd Vx, Wx ; kz b8 sae
EVEX.512.66.0F38.W0 CA /r : vrcp28ps Vx, Wx ; kz b4 sae
EVEX.512.66.0F38.W1 CA /r : vrcp28pd Vx, Wx ; kz b8 sae
EVEX.LIG.66.0F38.W0 CB /r : vrcp28ss Vdq, Hdq, Wd ; kz sae
EVEX.LIG.66.0F38.W1 CB /r : vrcp28sd Vdq, Hdq, Wq ; kz sae
EVEX.512.66.0F38.W0 CC /r : vrsqrt28ps Vx, Wx ; kz b4 sae
EVEX.512.66.0F38.W1 CC /r : vrsqrt28pd Vx, Wx ; kz b8 sae
EVEX.LIG.66.0F38.W0 CD /r : vrsqrt28ss Vdq, Hdq, Wd ; kz sae
EVEX.LIG.66.0F38.W1 CD /r : vrsqrt28sd Vdq, Hdq, Wq ; kz sae
EVEX.L.66.0F38.W0 CF /r : vgf2p8mulb Vx, Hx, Wx ; kz
EVEX.L.66.0F38.WIG DC /r : vaesenc Vx, Hx, Wx
EVEX.L.66.0F38.WIG DD /r : vaesenclast Vx, Hx, Wx
EVEX.L.66.0F38.WIG DE /r : vaesdec Vx, Hx, Wx
EVEX.L.66.0F38.WIG DF /r : vaesdeclast Vx, Hx, Wx

# ---- 0F3A map ----
EVEX.256+.66.0F3A.W1 00 /r : vpermq Vx, Wx, Ib ; kz b8
EVEX.256+.66.0F3A.W1 01 /r : vpermpd Vx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W0 03 /r : valignd Vx, Hx, Wx, Ib ; kz b4
EVEX.L.66.0F3A.W1 03 /r : valignq Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W0 04 /r : vpermilps Vx, Wx, Ib ; kz b4
EVEX.L.66.0F3A.W1 05 /r : vpermilpd Vx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W0 08 /r : vrndscaleps Vx, Wx, Ib ; kz b4 sae
EVEX.L.66.0F3A.W1 09 /r : vrndscalepd Vx, Wx, Ib ; kz b8 sae
EVEX.LIG.66.0F3A.W0 0A /r : vrndscaless Vdq, Hdq, Wd, Ib ; kz sae
EVEX.LIG.66.0F3A.W1 0B /r : vrndscalesd Vdq, Hdq, Wq, Ib ; kz sae
EVEX.L.66.0F3A.WIG 0F /r : vpalignr Vx, Hx, Wx, Ib ; kz
EVEX.128.66.0F3A.WIG 14 /r : vpextrb Edb, Vdq, Ib
EVEX.128.66.0F3A.WIG 15 /r : vpextrw Edw, Vdq, Ib
EVEX.128.66.0F3A.W0 16 /r : vpextrd Ed, Vdq, Ib ; w32
EVEX.128.66.0F3A.W1 16 /r : vpextrq Eq, Vdq, Ib ; o64
EVEX.128.66.0F3A.WIG 17 /r : vextractps Ed, Vdq, Ib
EVEX.256+.66.0F3A.W0 18 /r : vinsertf32x4 Vx, Hx, Wdq, Ib ; kz
EVEX.256+.66.0F3A.W1 18 /r : vinsertf64x2 Vx, Hx, Wdq, Ib ; kz
EVEX.256+.66.0F3A.W0 19 /r : vextractf32x4 Wdq, Vx, Ib ; kz
EVEX.256+.66.0F3A.W1 19 /r : vextractf64x2 Wdq, Vx, Ib ; kz
EVEX.512.66.0F3A.W0 1A /r : vinsertf32x8 Vx, Hx, Wqq, Ib ; kz
EVEX.512.66.0F3A.W1 1A /r : vinsertf64x4 Vx, Hx, Wqq, Ib ; kz
EVEX.512.66.0F3A.W0 1B /r : vextractf32x8 Wqq, Vx, Ib ; kz
EVEX.512.66.0F3A.W1 1B /r : vextractf64x4 Wqq, Vx, Ib ; kz
EVEX.L.66.0F3A.W0 1D /r : vcvtps2ph Wh, Vx, Ib ; kz sae
EVEX.L.66.0F3A.W0 1E /r : vpcmpud KG, Hx, Wx, Ib ; k b4
EVEX.L.66.0F3A.W1 1E /r : vpcmpuq KG, Hx, Wx, Ib ; k b8
EVEX.L.66.0F3A.W0 1F /r : vpcmpd KG, Hx, Wx, Ib ; k b4
EVEX.L.66.0F3A.W1 1F /r : vpcmpq KG, Hx, Wx, Ib ; k b8
EVEX.128.66.0F3A.WIG 20 /r : vpinsrb Vdq, Hdq, Edb, Ib
EVEX.128.66.0F3A.W0 21 /r : vinsertps Vdq, Hdq, Wd, Ib
EVEX.128.66.0F3A.W0 22 /r : vpinsrd Vdq, Hdq, Ed, Ib ; w32
EVEX.128.66.0F3A.W1 22 /r : vpinsrq Vdq, Hdq, Eq, Ib ; o64
EVEX.256+.66.0F3A.W0 23 /r : vshuff32x4 Vx, Hx, Wx, Ib ; kz b4
EVEX.256+.66.0F3A.W1 23 /r : vshuff64x2 Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W0 25 /r : vpternlogd Vx, Hx, Wx, Ib ; kz b4
EVEX.L.66.0F3A.W1 25 /r : vpternlogq Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W0 26 /r : vgetmantps Vx, Wx, Ib ; kz b4 sae
EVEX.L.66.0F3A.W1 26 /r : vgetmantpd Vx, Wx, Ib ; kz b8 sae
EVEX.LIG.66.0F3A.W0 27 /r : vgetmantss Vdq, Hdq, Wd, Ib ; kz sae
EVEX.LIG.66.0F3A.W1 27 /r : vgetmantsd Vdq, Hdq, Wq, Ib ; kz sae
EVEX.256+.66.0F3A.W0 38 /r : vinserti32x4 Vx, Hx, Wdq, Ib ; kz
EVEX.256+.66.0F3A.W1 38 /r : vinserti64x2 Vx, Hx, Wdq, Ib ; kz
EVEX.256+.66.0F3A.W0 39 /r : vextracti32x4 Wdq, Vx, Ib ; kz
EVEX.256+.66.0F3A.W1 39 /r : vextracti64x2 Wdq, Vx, Ib ; kz
EVEX.512.66.0F3A.W0 3A /r : vinserti32x8 Vx, Hx, Wqq, Ib ; kz
EVEX.512.66.0F3A.W1 3A /r : vinserti64x4 Vx, Hx, Wqq, Ib ; kz
EVEX.512.66.0F3A.W0 3B /r : vextracti32x8 Wqq, Vx, Ib ; kz
EVEX.512.66.0F3A.W1 3B /r : vextracti64x4 Wqq, Vx, Ib ; kz
EVEX.L.66.0F3A.W0 3E /r : vpcmpub KG, Hx, Wx, Ib ; k
EVEX.L.66.0F3A.W1 3E /r : vpcmpuw KG, Hx, Wx, Ib ; k
EVEX.L.66.0F3A.W0 3F /r : vpcmpb KG, Hx, Wx, Ib ; k
EVEX.L.66.0F3A.W1 3F /r : vpcmpw KG, Hx, Wx, Ib ; k
EVEX.L.66.0F3A.W0 42 /r : vdbpsadbw Vx, Hx, Wx, Ib ; kz
EVEX.256+.66.0F3A.W0 43 /r : vshufi32x4 Vx, Hx, Wx, Ib ; kz b4
EVEX.256+.66.0F3A.W1 43 /r : vshufi64x2 Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.WIG 44 /r : vpclmulqdq Vx, Hx, Wx, Ib
EVEX.L.66.0F3A.W0 50 /r : vrangeps Vx, Hx, Wx, Ib ; kz b4 sae
EVEX.L.66.0F3A.W1 50 /r : vrangepd Vx, Hx, Wx, Ib ; kz b8 sae
EVEX.LIG.66.0F3A.W0 51 /r : vrangess Vdq, Hdq, Wd, Ib ; kz sae
EVEX.LIG.66.0F3A.W1 51 /r : vrangesd Vdq, Hdq, Wq, Ib ; kz sae
EVEX.L.66.0F3A.W0 54 /r : vfixupimmps Vx, Hx, Wx, Ib ; kz b4 sae
EVEX.L.66.0F3A.W1 54 /r : vfixupimmpd Vx, Hx, Wx, Ib ; kz b8 sae
EVEX.LIG.66.0F3A.W0 55 /r : vfixupimmss Vdq, Hdq, Wd, Ib ; kz sae
EVEX.LIG.66.0F3A.W1 55 /r : vfixupimmsd Vdq, Hdq, Wq, Ib ; kz sae
EVEX.L.66.0F3A.W0 56 /r : vreduceps Vx, Wx, Ib ; kz b4 sae
EVEX.L.66.0F3A.W1 56 /r : vreducepd Vx, Wx, Ib ; kz b8 sae
EVEX.LIG.66.0F3A.W0 57 /r : vreducess Vdq, Hdq, Wd, Ib ; kz sae
EVEX.LIG.66.0F3A.W1 57 /r : vreducesd Vdq, Hdq, Wq, Ib ; kz sae
EVEX.L.66.0F3A.W0 66 /r : vfpclassps KG, Wx, Ib ; k b4
EVEX.L.66.0F3A.W1 66 /r : vfpclasspd KG, Wx, Ib ; k b8
EVEX.LIG.66.0F3A.W0 67 /r : vfpclassss KG, Wd, Ib ; k
EVEX.LIG.66.0F3A.W1 67 /r : vfpclasssd KG, Wq, Ib ; k
EVEX.L.66.0F3A.W1 70 /r : vpshldw Vx, Hx, Wx, Ib ; kz
EVEX.L.66.0F3A.W0 71 /r : vpshldd Vx, Hx, Wx, Ib ; kz b4
EVEX.L.66.0F3A.W1 71 /r : vpshldq Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W1 72 /r : vpshrdw Vx, Hx, Wx, Ib ; kz
EVEX.L.66.0F3A.W0 73 /r : vpshrdd Vx, Hx, Wx, Ib ; kz b4
EVEX.L.66.0F3A.W1 73 /r : vpshrdq Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W1 CE /r : vgf2p8affineqb Vx, Hx, Wx, Ib ; kz b8
EVEX.L.66.0F3A.W1 CF /r : vgf2p8affineinvqb Vx, Hx, Wx, Ib ; kz b8
"""
