// VEX-only instructions: the AVX and AVX2 forms with no legacy-SSE twin, FMA,
// F16C, BMI1 and BMI2. (AVX forms of SSE instructions are derived from their
// legacy lines; see TwoByte.swift.)
//
// Encoding: VEX.<L>.<pp>.<map>.<W> where L is 128, 256, LIG, LZ (= 128) or L
// (128 and 256), pp is NP/66/F3/F2, W is W0, W1 or WIG.
// By is a general register named by VEX.vvvv; Lx an XMM/YMM register named by
// imm8[7:4]; VSIB memory operands: Mvd (dword indices) and Mvq (qword indices),
// with the index register's width set by the next letter's size rule.

public let vexSpec = """
VEX.128.NP.0F.WIG 77 : vzeroupper
VEX.256.NP.0F.WIG 77 : vzeroall
VEX.LZ.NP.0F.WIG AE /2 m : vldmxcsr Md
VEX.LZ.NP.0F.WIG AE /3 m : vstmxcsr Md
VEX.L.NP.0F.WIG 50 /r r : vmovmskps Gd, Ux
VEX.L.66.0F.WIG 50 /r r : vmovmskpd Gd, Ux
VEX.L.66.0F.WIG 71 /2 r : vpsrlw Hx, Ux, Ib
VEX.L.66.0F.WIG 71 /4 r : vpsraw Hx, Ux, Ib
VEX.L.66.0F.WIG 71 /6 r : vpsllw Hx, Ux, Ib
VEX.L.66.0F.WIG 72 /2 r : vpsrld Hx, Ux, Ib
VEX.L.66.0F.WIG 72 /4 r : vpsrad Hx, Ux, Ib
VEX.L.66.0F.WIG 72 /6 r : vpslld Hx, Ux, Ib
VEX.L.66.0F.WIG 73 /2 r : vpsrlq Hx, Ux, Ib
VEX.L.66.0F.WIG 73 /3 r : vpsrldq Hx, Ux, Ib
VEX.L.66.0F.WIG 73 /6 r : vpsllq Hx, Ux, Ib
VEX.L.66.0F.WIG 73 /7 r : vpslldq Hx, Ux, Ib
VEX.L.66.0F38.W0 0C /r : vpermilps Vx, Hx, Wx
VEX.L.66.0F38.W0 0D /r : vpermilpd Vx, Hx, Wx
VEX.L.66.0F38.W0 0E /r : vtestps Vx, Wx
VEX.L.66.0F38.W0 0F /r : vtestpd Vx, Wx
VEX.L.66.0F38.W0 13 /r : vcvtph2ps Vx, Wh
VEX.256.66.0F38.W0 16 /r : vpermps Vqq, Hqq, Wqq
VEX.L.66.0F38.W0 18 /r : vbroadcastss Vx, Wd
VEX.256.66.0F38.W0 19 /r : vbroadcastsd Vqq, Wq
VEX.256.66.0F38.W0 1A /r m : vbroadcastf128 Vqq, Mdq
VEX.L.66.0F38.W0 2C /r m : vmaskmovps Vx, Hx, Mx
VEX.L.66.0F38.W0 2D /r m : vmaskmovpd Vx, Hx, Mx
VEX.L.66.0F38.W0 2E /r m : vmaskmovps Mx, Hx, Vx
VEX.L.66.0F38.W0 2F /r m : vmaskmovpd Mx, Hx, Vx
VEX.256.66.0F38.W0 36 /r : vpermd Vqq, Hqq, Wqq
VEX.L.66.0F38.W0 45 /r : vpsrlvd Vx, Hx, Wx
VEX.L.66.0F38.W1 45 /r : vpsrlvq Vx, Hx, Wx
VEX.L.66.0F38.W0 46 /r : vpsravd Vx, Hx, Wx
VEX.L.66.0F38.W0 47 /r : vpsllvd Vx, Hx, Wx
VEX.L.66.0F38.W1 47 /r : vpsllvq Vx, Hx, Wx
VEX.L.66.0F38.W0 58 /r : vpbroadcastd Vx, Wd
VEX.L.66.0F38.W0 59 /r : vpbroadcastq Vx, Wq
VEX.256.66.0F38.W0 5A /r m : vbroadcasti128 Vqq, Mdq
VEX.L.66.0F38.W0 78 /r : vpbroadcastb Vx, Wb
VEX.L.66.0F38.W0 79 /r : vpbroadcastw Vx, Ww
VEX.L.66.0F38.W0 8C /r m : vpmaskmovd Vx, Hx, Mx
VEX.L.66.0F38.W1 8C /r m : vpmaskmovq Vx, Hx, Mx
VEX.L.66.0F38.W0 8E /r m : vpmaskmovd Mx, Hx, Vx
VEX.L.66.0F38.W1 8E /r m : vpmaskmovq Mx, Hx, Vx
VEX.L.66.0F38.W0 90 /r m : vpgatherdd Vx, Mvdx, Hx
VEX.L.66.0F38.W1 90 /r m : vpgatherdq Vx, Mvdh, Hx
VEX.L.66.0F38.W0 91 /r m : vpgatherqd Vdq, Mvqx, Hdq
VEX.L.66.0F38.W1 91 /r m : vpgatherqq Vx, Mvqx, Hx
VEX.L.66.0F38.W0 92 /r m : vgatherdps Vx, Mvdx, Hx
VEX.L.66.0F38.W1 92 /r m : vgatherdpd Vx, Mvdh, Hx
VEX.L.66.0F38.W0 93 /r m : vgatherqps Vdq, Mvqx, Hdq
VEX.L.66.0F38.W1 93 /r m : vgatherqpd Vx, Mvqx, Hx
VEX.L.66.0F38.W0 96 /r : vfmaddsub132ps Vx, Hx, Wx
VEX.L.66.0F38.W1 96 /r : vfmaddsub132pd Vx, Hx, Wx
VEX.L.66.0F38.W0 97 /r : vfmsubadd132ps Vx, Hx, Wx
VEX.L.66.0F38.W1 97 /r : vfmsubadd132pd Vx, Hx, Wx
VEX.L.66.0F38.W0 98 /r : vfmadd132ps Vx, Hx, Wx
VEX.L.66.0F38.W1 98 /r : vfmadd132pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 99 /r : vfmadd132ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 99 /r : vfmadd132sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 9A /r : vfmsub132ps Vx, Hx, Wx
VEX.L.66.0F38.W1 9A /r : vfmsub132pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 9B /r : vfmsub132ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 9B /r : vfmsub132sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 9C /r : vfnmadd132ps Vx, Hx, Wx
VEX.L.66.0F38.W1 9C /r : vfnmadd132pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 9D /r : vfnmadd132ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 9D /r : vfnmadd132sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 9E /r : vfnmsub132ps Vx, Hx, Wx
VEX.L.66.0F38.W1 9E /r : vfnmsub132pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 9F /r : vfnmsub132ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 9F /r : vfnmsub132sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 A6 /r : vfmaddsub213ps Vx, Hx, Wx
VEX.L.66.0F38.W1 A6 /r : vfmaddsub213pd Vx, Hx, Wx
VEX.L.66.0F38.W0 A7 /r : vfmsubadd213ps Vx, Hx, Wx
VEX.L.66.0F38.W1 A7 /r : vfmsubadd213pd Vx, Hx, Wx
VEX.L.66.0F38.W0 A8 /r : vfmadd213ps Vx, Hx, Wx
VEX.L.66.0F38.W1 A8 /r : vfmadd213pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 A9 /r : vfmadd213ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 A9 /r : vfmadd213sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 AA /r : vfmsub213ps Vx, Hx, Wx
VEX.L.66.0F38.W1 AA /r : vfmsub213pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 AB /r : vfmsub213ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 AB /r : vfmsub213sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 AC /r : vfnmadd213ps Vx, Hx, Wx
VEX.L.66.0F38.W1 AC /r : vfnmadd213pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 AD /r : vfnmadd213ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 AD /r : vfnmadd213sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 AE /r : vfnmsub213ps Vx, Hx, Wx
VEX.L.66.0F38.W1 AE /r : vfnmsub213pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 AF /r : vfnmsub213ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 AF /r : vfnmsub213sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 B6 /r : vfmaddsub231ps Vx, Hx, Wx
VEX.L.66.0F38.W1 B6 /r : vfmaddsub231pd Vx, Hx, Wx
VEX.L.66.0F38.W0 B7 /r : vfmsubadd231ps Vx, Hx, Wx
VEX.L.66.0F38.W1 B7 /r : vfmsubadd231pd Vx, Hx, Wx
VEX.L.66.0F38.W0 B8 /r : vfmadd231ps Vx, Hx, Wx
VEX.L.66.0F38.W1 B8 /r : vfmadd231pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 B9 /r : vfmadd231ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 B9 /r : vfmadd231sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 BA /r : vfmsub231ps Vx, Hx, Wx
VEX.L.66.0F38.W1 BA /r : vfmsub231pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 BB /r : vfmsub231ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 BB /r : vfmsub231sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 BC /r : vfnmadd231ps Vx, Hx, Wx
VEX.L.66.0F38.W1 BC /r : vfnmadd231pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 BD /r : vfnmadd231ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 BD /r : vfnmadd231sd Vdq, Hdq, Wq
VEX.L.66.0F38.W0 BE /r : vfnmsub231ps Vx, Hx, Wx
VEX.L.66.0F38.W1 BE /r : vfnmsub231pd Vx, Hx, Wx
VEX.LIG.66.0F38.W0 BF /r : vfnmsub231ss Vdq, Hdq, Wd
VEX.LIG.66.0F38.W1 BF /r : vfnmsub231sd Vdq, Hdq, Wq
VEX.LZ.NP.0F38.WIG F2 /r : andn Gy, By, Ey
VEX.LZ.NP.0F38.WIG F3 /1 : blsr By, Ey
VEX.LZ.NP.0F38.WIG F3 /2 : blsmsk By, Ey
VEX.LZ.NP.0F38.WIG F3 /3 : blsi By, Ey
VEX.LZ.NP.0F38.WIG F5 /r : bzhi Gy, Ey, By
VEX.LZ.F3.0F38.WIG F5 /r : pext Gy, By, Ey
VEX.LZ.F2.0F38.WIG F5 /r : pdep Gy, By, Ey
VEX.LZ.F2.0F38.WIG F6 /r : mulx Gy, By, Ey
VEX.LZ.NP.0F38.WIG F7 /r : bextr Gy, Ey, By
VEX.LZ.66.0F38.WIG F7 /r : shlx Gy, Ey, By
VEX.LZ.F3.0F38.WIG F7 /r : sarx Gy, Ey, By
VEX.LZ.F2.0F38.WIG F7 /r : shrx Gy, Ey, By
VEX.256.66.0F3A.W1 00 /r : vpermq Vqq, Wqq, Ib
VEX.256.66.0F3A.W1 01 /r : vpermpd Vqq, Wqq, Ib
VEX.L.66.0F3A.W0 02 /r : vpblendd Vx, Hx, Wx, Ib
VEX.L.66.0F3A.W0 04 /r : vpermilps Vx, Wx, Ib
VEX.L.66.0F3A.W0 05 /r : vpermilpd Vx, Wx, Ib
VEX.256.66.0F3A.W0 06 /r : vperm2f128 Vqq, Hqq, Wqq, Ib
VEX.256.66.0F3A.W0 18 /r : vinsertf128 Vqq, Hqq, Wdq, Ib
VEX.256.66.0F3A.W0 19 /r : vextractf128 Wdq, Vqq, Ib
VEX.L.66.0F3A.W0 1D /r : vcvtps2ph Wh, Vx, Ib
VEX.256.66.0F3A.W0 38 /r : vinserti128 Vqq, Hqq, Wdq, Ib
VEX.256.66.0F3A.W0 39 /r : vextracti128 Wdq, Vqq, Ib
VEX.256.66.0F3A.W0 46 /r : vperm2i128 Vqq, Hqq, Wqq, Ib
VEX.L.66.0F3A.W0 4A /r : vblendvps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W0 4B /r : vblendvpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W0 4C /r : vpblendvb Vx, Hx, Wx, Lx
VEX.LZ.F2.0F3A.WIG F0 /r : rorx Gy, Ey, Ib
# AVX-512 opmask instructions. Width by pp and W: NP.W0 w, 66.W0 b, NP.W1 q, 66.W1 d.
VEX.L1.NP.0F.W0 41 /r r : kandw KG, KH, KR
VEX.L1.66.0F.W0 41 /r r : kandb KG, KH, KR
VEX.L1.NP.0F.W1 41 /r r : kandq KG, KH, KR
VEX.L1.66.0F.W1 41 /r r : kandd KG, KH, KR
VEX.L1.NP.0F.W0 42 /r r : kandnw KG, KH, KR
VEX.L1.66.0F.W0 42 /r r : kandnb KG, KH, KR
VEX.L1.NP.0F.W1 42 /r r : kandnq KG, KH, KR
VEX.L1.66.0F.W1 42 /r r : kandnd KG, KH, KR
VEX.L1.NP.0F.W0 45 /r r : korw KG, KH, KR
VEX.L1.66.0F.W0 45 /r r : korb KG, KH, KR
VEX.L1.NP.0F.W1 45 /r r : korq KG, KH, KR
VEX.L1.66.0F.W1 45 /r r : kord KG, KH, KR
VEX.L1.NP.0F.W0 46 /r r : kxnorw KG, KH, KR
VEX.L1.66.0F.W0 46 /r r : kxnorb KG, KH, KR
VEX.L1.NP.0F.W1 46 /r r : kxnorq KG, KH, KR
VEX.L1.66.0F.W1 46 /r r : kxnord KG, KH, KR
VEX.L1.NP.0F.W0 47 /r r : kxorw KG, KH, KR
VEX.L1.66.0F.W0 47 /r r : kxorb KG, KH, KR
VEX.L1.NP.0F.W1 47 /r r : kxorq KG, KH, KR
VEX.L1.66.0F.W1 47 /r r : kxord KG, KH, KR
VEX.L1.NP.0F.W0 4A /r r : kaddw KG, KH, KR
VEX.L1.66.0F.W0 4A /r r : kaddb KG, KH, KR
VEX.L1.NP.0F.W1 4A /r r : kaddq KG, KH, KR
VEX.L1.66.0F.W1 4A /r r : kaddd KG, KH, KR
VEX.L0.NP.0F.W0 44 /r r : knotw KG, KR
VEX.L0.66.0F.W0 44 /r r : knotb KG, KR
VEX.L0.NP.0F.W1 44 /r r : knotq KG, KR
VEX.L0.66.0F.W1 44 /r r : knotd KG, KR
VEX.L0.NP.0F.W0 98 /r r : kortestw KG, KR
VEX.L0.66.0F.W0 98 /r r : kortestb KG, KR
VEX.L0.NP.0F.W1 98 /r r : kortestq KG, KR
VEX.L0.66.0F.W1 98 /r r : kortestd KG, KR
VEX.L0.NP.0F.W0 99 /r r : ktestw KG, KR
VEX.L0.66.0F.W0 99 /r r : ktestb KG, KR
VEX.L0.NP.0F.W1 99 /r r : ktestq KG, KR
VEX.L0.66.0F.W1 99 /r r : ktestd KG, KR
VEX.L1.66.0F.W0 4B /r r : kunpckbw KG, KH, KR
VEX.L1.NP.0F.W0 4B /r r : kunpckwd KG, KH, KR
VEX.L1.NP.0F.W1 4B /r r : kunpckdq KG, KH, KR
VEX.L0.NP.0F.W0 90 /r : kmovw KG, KEw
VEX.L0.NP.0F.W0 91 /r m : kmovw KEw, KG
VEX.L0.66.0F.W0 90 /r : kmovb KG, KEb
VEX.L0.66.0F.W0 91 /r m : kmovb KEb, KG
VEX.L0.NP.0F.W1 90 /r : kmovq KG, KEq
VEX.L0.NP.0F.W1 91 /r m : kmovq KEq, KG
VEX.L0.66.0F.W1 90 /r : kmovd KG, KEd
VEX.L0.66.0F.W1 91 /r m : kmovd KEd, KG
VEX.L0.NP.0F.W0 92 /r r : kmovw KG, Rd
VEX.L0.NP.0F.W0 93 /r r : kmovw Gd, KR
VEX.L0.66.0F.W0 92 /r r : kmovb KG, Rd
VEX.L0.66.0F.W0 93 /r r : kmovb Gd, KR
VEX.L0.F2.0F.W0 92 /r r : kmovd KG, Rd
VEX.L0.F2.0F.W0 93 /r r : kmovd Gd, KR
VEX.L0.F2.0F.W1 92 /r r : kmovq KG, Rq ; o64
VEX.L0.F2.0F.W1 93 /r r : kmovq Gq, KR ; o64
VEX.L0.F2.0F.W1 92 /r r : kmovd KG, Rd ; i64
VEX.L0.F2.0F.W1 93 /r r : kmovd Gd, KR ; i64
VEX.L0.66.0F3A.W0 30 /r r : kshiftrb KG, KR, Ib
VEX.L0.66.0F3A.W1 30 /r r : kshiftrw KG, KR, Ib
VEX.L0.66.0F3A.W0 31 /r r : kshiftrd KG, KR, Ib
VEX.L0.66.0F3A.W1 31 /r r : kshiftrq KG, KR, Ib
VEX.L0.66.0F3A.W0 32 /r r : kshiftlb KG, KR, Ib
VEX.L0.66.0F3A.W1 32 /r r : kshiftlw KG, KR, Ib
VEX.L0.66.0F3A.W0 33 /r r : kshiftld KG, KR, Ib
VEX.L0.66.0F3A.W1 33 /r r : kshiftlq KG, KR, Ib
# AMD FMA4: W0 takes the third source from r/m and the fourth from imm8[7:4]; W1 swaps them.
VEX.L.66.0F3A.W0 5C /r : vfmaddsubps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 5C /r : vfmaddsubps Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 5D /r : vfmaddsubpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 5D /r : vfmaddsubpd Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 5E /r : vfmsubaddps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 5E /r : vfmsubaddps Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 5F /r : vfmsubaddpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 5F /r : vfmsubaddpd Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 68 /r : vfmaddps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 68 /r : vfmaddps Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 69 /r : vfmaddpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 69 /r : vfmaddpd Vx, Hx, Lx, Wx
VEX.LIG.66.0F3A.W0 6A /r : vfmaddss Vdq, Hdq, Wd, Ldq
VEX.LIG.66.0F3A.W1 6A /r : vfmaddss Vdq, Hdq, Ldq, Wd
VEX.LIG.66.0F3A.W0 6B /r : vfmaddsd Vdq, Hdq, Wq, Ldq
VEX.LIG.66.0F3A.W1 6B /r : vfmaddsd Vdq, Hdq, Ldq, Wq
VEX.L.66.0F3A.W0 6C /r : vfmsubps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 6C /r : vfmsubps Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 6D /r : vfmsubpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 6D /r : vfmsubpd Vx, Hx, Lx, Wx
VEX.LIG.66.0F3A.W0 6E /r : vfmsubss Vdq, Hdq, Wd, Ldq
VEX.LIG.66.0F3A.W1 6E /r : vfmsubss Vdq, Hdq, Ldq, Wd
VEX.LIG.66.0F3A.W0 6F /r : vfmsubsd Vdq, Hdq, Wq, Ldq
VEX.LIG.66.0F3A.W1 6F /r : vfmsubsd Vdq, Hdq, Ldq, Wq
VEX.L.66.0F3A.W0 78 /r : vfnmaddps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 78 /r : vfnmaddps Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 79 /r : vfnmaddpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 79 /r : vfnmaddpd Vx, Hx, Lx, Wx
VEX.LIG.66.0F3A.W0 7A /r : vfnmaddss Vdq, Hdq, Wd, Ldq
VEX.LIG.66.0F3A.W1 7A /r : vfnmaddss Vdq, Hdq, Ldq, Wd
VEX.LIG.66.0F3A.W0 7B /r : vfnmaddsd Vdq, Hdq, Wq, Ldq
VEX.LIG.66.0F3A.W1 7B /r : vfnmaddsd Vdq, Hdq, Ldq, Wq
VEX.L.66.0F3A.W0 7C /r : vfnmsubps Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 7C /r : vfnmsubps Vx, Hx, Lx, Wx
VEX.L.66.0F3A.W0 7D /r : vfnmsubpd Vx, Hx, Wx, Lx
VEX.L.66.0F3A.W1 7D /r : vfnmsubpd Vx, Hx, Lx, Wx
VEX.LIG.66.0F3A.W0 7E /r : vfnmsubss Vdq, Hdq, Wd, Ldq
VEX.LIG.66.0F3A.W1 7E /r : vfnmsubss Vdq, Hdq, Ldq, Wd
VEX.LIG.66.0F3A.W0 7F /r : vfnmsubsd Vdq, Hdq, Wq, Ldq
VEX.LIG.66.0F3A.W1 7F /r : vfnmsubsd Vdq, Hdq, Ldq, Wq
# AMD XOP-era VPERMIL2PS/PD (VEX form): imm8[7:4] names a register, imm8[3:0] is the selector control.
VEX.L.66.0F3A.W0 48 /r : vpermil2ps Vx, Hx, Wx, Lx, Im4
VEX.L.66.0F3A.W1 48 /r : vpermil2ps Vx, Hx, Lx, Wx, Im4
VEX.L.66.0F3A.W0 49 /r : vpermil2pd Vx, Hx, Wx, Lx, Im4
VEX.L.66.0F3A.W1 49 /r : vpermil2pd Vx, Hx, Lx, Wx, Im4
"""
