// AMD XOP (8F prefix, maps 08, 09, 0A; AMD APM vol. 4) and TBM/LWP in the XOP maps.
// Encoding and operand notation as in VEX.swift. W1 swaps the r/m and the vvvv or
// /is4 source of the rotate, shift, CMOV and PERM forms.

public let xopSpec = """
XOP.128.NP.08.W0 85 /r : vpmacssww Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 86 /r : vpmacsswd Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 87 /r : vpmacssdql Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 8E /r : vpmacssdd Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 8F /r : vpmacssdqh Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 95 /r : vpmacsww Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 96 /r : vpmacswd Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 97 /r : vpmacsdql Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 9E /r : vpmacsdd Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 9F /r : vpmacsdqh Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 A6 /r : vpmadcsswd Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W0 B6 /r : vpmadcswd Vdq, Hdq, Wdq, Ldq
XOP.L.NP.08.W0 A2 /r : vpcmov Vx, Hx, Wx, Lx
XOP.L.NP.08.W1 A2 /r : vpcmov Vx, Hx, Lx, Wx
XOP.128.NP.08.W0 A3 /r : vpperm Vdq, Hdq, Wdq, Ldq
XOP.128.NP.08.W1 A3 /r : vpperm Vdq, Hdq, Ldq, Wdq
XOP.128.NP.08.W0 C0 /r : vprotb Vdq, Wdq, Ib
XOP.128.NP.08.W0 C1 /r : vprotw Vdq, Wdq, Ib
XOP.128.NP.08.W0 C2 /r : vprotd Vdq, Wdq, Ib
XOP.128.NP.08.W0 C3 /r : vprotq Vdq, Wdq, Ib
XOP.128.NP.08.W0 CC /r : vpcomb Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 CD /r : vpcomw Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 CE /r : vpcomd Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 CF /r : vpcomq Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 EC /r : vpcomub Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 ED /r : vpcomuw Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 EE /r : vpcomud Vdq, Hdq, Wdq, Ib
XOP.128.NP.08.W0 EF /r : vpcomuq Vdq, Hdq, Wdq, Ib
XOP.LZ.NP.09.WIG 01 /1 : blcfill By, Ey
XOP.LZ.NP.09.WIG 01 /2 : blsfill By, Ey
XOP.LZ.NP.09.WIG 01 /3 : blcs By, Ey
XOP.LZ.NP.09.WIG 01 /4 : tzmsk By, Ey
XOP.LZ.NP.09.WIG 01 /5 : blcic By, Ey
XOP.LZ.NP.09.WIG 01 /6 : blsic By, Ey
XOP.LZ.NP.09.WIG 01 /7 : t1mskc By, Ey
XOP.LZ.NP.09.WIG 02 /1 : blcmsk By, Ey
XOP.LZ.NP.09.WIG 02 /6 : blci By, Ey
XOP.LZ.NP.09.WIG 12 /0 r : llwpcb Ry
XOP.LZ.NP.09.WIG 12 /1 r : slwpcb Ry
XOP.L.NP.09.W0 80 /r : vfrczps Vx, Wx
XOP.L.NP.09.W0 81 /r : vfrczpd Vx, Wx
XOP.128.NP.09.W0 82 /r : vfrczss Vdq, Wd
XOP.128.NP.09.W0 83 /r : vfrczsd Vdq, Wq
XOP.128.NP.09.W0 90 /r : vprotb Vdq, Wdq, Hdq
XOP.128.NP.09.W1 90 /r : vprotb Vdq, Hdq, Wdq
XOP.128.NP.09.W0 91 /r : vprotw Vdq, Wdq, Hdq
XOP.128.NP.09.W1 91 /r : vprotw Vdq, Hdq, Wdq
XOP.128.NP.09.W0 92 /r : vprotd Vdq, Wdq, Hdq
XOP.128.NP.09.W1 92 /r : vprotd Vdq, Hdq, Wdq
XOP.128.NP.09.W0 93 /r : vprotq Vdq, Wdq, Hdq
XOP.128.NP.09.W1 93 /r : vprotq Vdq, Hdq, Wdq
XOP.128.NP.09.W0 94 /r : vpshlb Vdq, Wdq, Hdq
XOP.128.NP.09.W1 94 /r : vpshlb Vdq, Hdq, Wdq
XOP.128.NP.09.W0 95 /r : vpshlw Vdq, Wdq, Hdq
XOP.128.NP.09.W1 95 /r : vpshlw Vdq, Hdq, Wdq
XOP.128.NP.09.W0 96 /r : vpshld Vdq, Wdq, Hdq
XOP.128.NP.09.W1 96 /r : vpshld Vdq, Hdq, Wdq
XOP.128.NP.09.W0 97 /r : vpshlq Vdq, Wdq, Hdq
XOP.128.NP.09.W1 97 /r : vpshlq Vdq, Hdq, Wdq
XOP.128.NP.09.W0 98 /r : vpshab Vdq, Wdq, Hdq
XOP.128.NP.09.W1 98 /r : vpshab Vdq, Hdq, Wdq
XOP.128.NP.09.W0 99 /r : vpshaw Vdq, Wdq, Hdq
XOP.128.NP.09.W1 99 /r : vpshaw Vdq, Hdq, Wdq
XOP.128.NP.09.W0 9A /r : vpshad Vdq, Wdq, Hdq
XOP.128.NP.09.W1 9A /r : vpshad Vdq, Hdq, Wdq
XOP.128.NP.09.W0 9B /r : vpshaq Vdq, Wdq, Hdq
XOP.128.NP.09.W1 9B /r : vpshaq Vdq, Hdq, Wdq
XOP.128.NP.09.W0 C1 /r : vphaddbw Vdq, Wdq
XOP.128.NP.09.W0 C2 /r : vphaddbd Vdq, Wdq
XOP.128.NP.09.W0 C3 /r : vphaddbq Vdq, Wdq
XOP.128.NP.09.W0 C6 /r : vphaddwd Vdq, Wdq
XOP.128.NP.09.W0 C7 /r : vphaddwq Vdq, Wdq
XOP.128.NP.09.W0 CB /r : vphadddq Vdq, Wdq
XOP.128.NP.09.W0 D1 /r : vphaddubw Vdq, Wdq
XOP.128.NP.09.W0 D2 /r : vphaddubd Vdq, Wdq
XOP.128.NP.09.W0 D3 /r : vphaddubq Vdq, Wdq
XOP.128.NP.09.W0 D6 /r : vphadduwd Vdq, Wdq
XOP.128.NP.09.W0 D7 /r : vphadduwq Vdq, Wdq
XOP.128.NP.09.W0 DB /r : vphaddudq Vdq, Wdq
XOP.128.NP.09.W0 E1 /r : vphsubbw Vdq, Wdq
XOP.128.NP.09.W0 E2 /r : vphsubwd Vdq, Wdq
XOP.128.NP.09.W0 E3 /r : vphsubdq Vdq, Wdq
XOP.LZ.NP.0A.WIG 10 /r : bextr Gy, Ey, Id
XOP.LZ.NP.0A.WIG 12 /0 : lwpins By, Ed, Id
XOP.LZ.NP.0A.WIG 12 /1 : lwpval By, Ed, Id
"""
