// VEX-only instructions: the AVX and AVX2 forms with no legacy-SSE twin, FMA,
// F16C, BMI1 and BMI2. (AVX forms of SSE instructions are derived from their
// legacy lines; see TwoByte.swift.)
//
// Encoding: VEX.<L>.<pp>.<map>.<W> where L is 128, 256, LIG, LZ (= 128) or L
// (128 and 256), pp is NP/66/F3/F2, W is W0, W1 or WIG.
// By is a general register named by VEX.vvvv; Lx an XMM/YMM register named by
// imm8[7:4]; VSIB memory operands: Mvd (dword indices) and Mvq (qword indices),
// with the index register's width set by the next letter's size rule.

let vexSpec = """
VEX.128.NP.0F.WIG 77 : vzeroupper
VEX.256.NP.0F.WIG 77 : vzeroall
VEX.LZ.NP.0F.WIG AE /2 m : vldmxcsr Md
VEX.LZ.NP.0F.WIG AE /3 m : vstmxcsr Md
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
"""
