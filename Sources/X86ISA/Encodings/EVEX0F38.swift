// EVEX-encoded instructions of the 0F38 and 0F3A maps (the notation is EVEX.swift's).

public let evex0F38Spec = """
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
