// The two-byte opcode map, 0F xx (SDM vol. 2, appendix A, table A-3).
//
// VEX derivation flags on an SSE line generate its AVX form ("v" + mnemonic):
//   vx   VEX.128 and VEX.256, NDS: H (VEX.vvvv) inserted after the first operand
//   vx2  VEX.128 and VEX.256, no H
//   v1   VEX.128 only, with H        v12  VEX.128 only, no H
//   vs   VEX.LIG (scalar), with H    vs2  VEX.LIG, no H
// Size "x" is 16 bytes in legacy and VEX.128 forms, 32 in VEX.256 forms.

public let twoByteSpec = """
0F 00 /0 : sldt Evw
0F 00 /1 : str Evw
0F 00 /2 : lldt Ew
0F 00 /3 : ltr Ew
0F 00 /4 : verr Ew
0F 00 /5 : verw Ew
NP 0F 01 C0 : enclv
NP 0F 01 C1 : vmcall
NP 0F 01 C2 : vmlaunch
NP 0F 01 C3 : vmresume
NP 0F 01 C4 : vmxoff
NP 0F 01 C5 : pconfig
NP 0F 01 C8 : monitor
NP 0F 01 C9 : mwait
NP 0F 01 CA : clac
NP 0F 01 CB : stac
66 0F 01 CC : tdcall ; o64
66 0F 01 CD : seamret ; o64
66 0F 01 CE : seamops ; o64
66 0F 01 CF : seamcall ; o64
NP 0F 01 CF : encls
NP 0F 01 D0 : xgetbv
NP 0F 01 D1 : xsetbv
NP 0F 01 D4 : vmfunc
NP 0F 01 D5 : xend
NP 0F 01 D6 : xtest
NP 0F 01 D7 : enclu
0F 01 D8 : vmrun aAX ; byaddr
0F 01 D9 : vmmcall
0F 01 DA : vmload aAX ; byaddr
0F 01 DB : vmsave aAX ; byaddr
0F 01 DC : stgi
0F 01 DD : clgi
0F 01 DE : skinit EAX
0F 01 DF : invlpga aAX, ECX ; byaddr
F3 0F 01 E8 : setssbsy
F2 0F 01 E8 : xsusldtrk
NP 0F 01 E8 : serialize
F2 0F 01 E9 : xresldtrk
F3 0F 01 EA : saveprevssp
F3 0F 01 EC : uiret ; o64
F3 0F 01 ED : testui ; o64
F3 0F 01 EE : clui ; o64
F3 0F 01 EF : stui ; o64
NP 0F 01 EE : rdpkru
NP 0F 01 EF : wrpkru
0F 01 F8 : swapgs ; o64
0F 01 F9 : rdtscp
F3 0F 01 FA : mcommit
NP 0F 01 FA : monitorx
NP 0F 01 FB : mwaitx
NF 0F 01 FC : clzero aAX ; byaddr
0F 01 FD : rdpru
F3 0F 01 FE : rmpadjust RAX, RCX, RDX ; o64
F2 0F 01 FE : rmpupdate RAX, RCX ; o64
NP 0F 01 FE : invlpgb aAX, EDX, ECX ; byaddr
F3 0F 01 FF : psmash RAX ; o64
F2 0F 01 FF : pvalidate aAX, ECX, EDX ; byaddr
NP 0F 01 FF : tlbsync
F3 0F 01 /5 m : rstorssp Mq
0F 01 /0 m : sgdt Ms
0F 01 /1 m : sidt Ms
0F 01 /2 m : lgdt Ms
0F 01 /3 m : lidt Ms
0F 01 /4 : smsw Evw
0F 01 /6 : lmsw Ew
0F 01 /7 m : invlpg Mb
0F 02 /r : lar Gv, Ezw
0F 03 /r : lsl Gv, Ezw
0F 05 : syscall
0F 06 : clts
0F 07 : sysret
0F 08 : invd
0F 09 : wbinvd
0F 0B : ud2
0F 0D /0 m : prefetch Mb
0F 0D /1 m : prefetchw Mb
0F 0D /2 m : prefetchwt1 Mb
0F 0E : femms
NP 0F 10 /r : movups Vx, Wx ; vx2
66 0F 10 /r : movupd Vx, Wx ; vx2
F3 0F 10 /r m : movss Vdq, Md ; vs2
F3 0F 10 /r r : movss Vdq, Udq ; vs
F2 0F 10 /r m : movsd.sse Vdq, Mq ; vs2
F2 0F 10 /r r : movsd.sse Vdq, Udq ; vs
NP 0F 11 /r : movups Wx, Vx ; vx2
66 0F 11 /r : movupd Wx, Vx ; vx2
F3 0F 11 /r m : movss Md, Vdq ; vs2
F3 0F 11 /r r : movss Udq, Vdq ; vs
F2 0F 11 /r m : movsd.sse Mq, Vdq ; vs2
F2 0F 11 /r r : movsd.sse Udq, Vdq ; vs
NP 0F 12 /r r : movhlps Vdq, Udq ; v1
NP 0F 12 /r m : movlps Vdq, Mq ; v1
66 0F 12 /r m : movlpd Vdq, Mq ; v1
F2 0F 12 /r : movddup Vx, Wxq ; vx2
F3 0F 12 /r : movsldup Vx, Wx ; vx2
NP 0F 13 /r m : movlps Mq, Vdq ; v12
66 0F 13 /r m : movlpd Mq, Vdq ; v12
NP 0F 14 /r : unpcklps Vx, Wx ; vx
66 0F 14 /r : unpcklpd Vx, Wx ; vx
NP 0F 15 /r : unpckhps Vx, Wx ; vx
66 0F 15 /r : unpckhpd Vx, Wx ; vx
NP 0F 16 /r r : movlhps Vdq, Udq ; v1
NP 0F 16 /r m : movhps Vdq, Mq ; v1
66 0F 16 /r m : movhpd Vdq, Mq ; v1
F3 0F 16 /r : movshdup Vx, Wx ; vx2
NP 0F 17 /r m : movhps Mq, Vdq ; v12
66 0F 17 /r m : movhpd Mq, Vdq ; v12
0F 18 /0 m : prefetchnta Mb
0F 18 /1 m : prefetcht0 Mb
0F 18 /2 m : prefetcht1 Mb
0F 18 /3 m : prefetcht2 Mb
0F 18 /r : nop Ev
0F 19 /r : nop Ev, Gv
0F 1A /r : nop Ev, Gv
0F 1B /r : nop Ev, Gv
0F 1C /r : nop Ev, Gv
0F 1D /r : nop Ev, Gv
F3 0F 1E FA : endbr64
F3 0F 1E FB : endbr32
F3 0F 1E /1 r W0 : rdsspd Rd
F3 0F 1E /1 r W1 : rdsspq Rq
0F 1E /r : nop Ev, Gv
0F 1F /0 : nop Ev
0F 1F /r : nop Ev, Gv
0F 20 /r : mov Rm, Cm ; nomod
0F 21 /r : mov Rm, Dm ; nomod
0F 22 /r : mov Cm, Rm ; nomod
0F 23 /r : mov Dm, Rm ; nomod
NP 0F 28 /r : movaps Vx, Wx ; vx2
66 0F 28 /r : movapd Vx, Wx ; vx2
NP 0F 29 /r : movaps Wx, Vx ; vx2
66 0F 29 /r : movapd Wx, Vx ; vx2
NP 0F 2A /r : cvtpi2ps Vdq, Qq
66 0F 2A /r : cvtpi2pd Vdq, Qq
F3 0F 2A /r : cvtsi2ss Vdq, Ey ; vs
F2 0F 2A /r : cvtsi2sd Vdq, Ey ; vs
NP 0F 2B /r m : movntps Mx, Vx ; vx2
66 0F 2B /r m : movntpd Mx, Vx ; vx2
F3 0F 2B /r m : movntss Md, Vdq
F2 0F 2B /r m : movntsd Mq, Vdq
NP 0F 2C /r : cvttps2pi Pq, Wq
66 0F 2C /r : cvttpd2pi Pq, Wdq
F3 0F 2C /r : cvttss2si Gy, Wd ; vs2
F2 0F 2C /r : cvttsd2si Gy, Wq ; vs2
NP 0F 2D /r : cvtps2pi Pq, Wq
66 0F 2D /r : cvtpd2pi Pq, Wdq
F3 0F 2D /r : cvtss2si Gy, Wd ; vs2
F2 0F 2D /r : cvtsd2si Gy, Wq ; vs2
NP 0F 2E /r : ucomiss Vdq, Wd ; vs2
66 0F 2E /r : ucomisd Vdq, Wq ; vs2
NP 0F 2F /r : comiss Vdq, Wd ; vs2
66 0F 2F /r : comisd Vdq, Wq ; vs2
0F 30 : wrmsr
0F 31 : rdtsc
0F 32 : rdmsr
0F 33 : rdpmc
0F 34 : sysenter
0F 35 : sysexit
0F 37 : getsec
0F 40 /r : cmovo Gv, Ev
0F 41 /r : cmovno Gv, Ev
0F 42 /r : cmovb Gv, Ev
0F 43 /r : cmovae Gv, Ev
0F 44 /r : cmove Gv, Ev
0F 45 /r : cmovne Gv, Ev
0F 46 /r : cmovbe Gv, Ev
0F 47 /r : cmova Gv, Ev
0F 48 /r : cmovs Gv, Ev
0F 49 /r : cmovns Gv, Ev
0F 4A /r : cmovp Gv, Ev
0F 4B /r : cmovnp Gv, Ev
0F 4C /r : cmovl Gv, Ev
0F 4D /r : cmovge Gv, Ev
0F 4E /r : cmovle Gv, Ev
0F 4F /r : cmovg Gv, Ev
NP 0F 50 /r r : movmskps Gy, Ux
66 0F 50 /r r : movmskpd Gy, Ux
NP 0F 51 /r : sqrtps Vx, Wx ; vx2
66 0F 51 /r : sqrtpd Vx, Wx ; vx2
F3 0F 51 /r : sqrtss Vdq, Wd ; vs
F2 0F 51 /r : sqrtsd Vdq, Wq ; vs
NP 0F 52 /r : rsqrtps Vx, Wx ; vx2
F3 0F 52 /r : rsqrtss Vdq, Wd ; vs
NP 0F 53 /r : rcpps Vx, Wx ; vx2
F3 0F 53 /r : rcpss Vdq, Wd ; vs
NP 0F 54 /r : andps Vx, Wx ; vx
66 0F 54 /r : andpd Vx, Wx ; vx
NP 0F 55 /r : andnps Vx, Wx ; vx
66 0F 55 /r : andnpd Vx, Wx ; vx
NP 0F 56 /r : orps Vx, Wx ; vx
66 0F 56 /r : orpd Vx, Wx ; vx
NP 0F 57 /r : xorps Vx, Wx ; vx
66 0F 57 /r : xorpd Vx, Wx ; vx
NP 0F 58 /r : addps Vx, Wx ; vx
66 0F 58 /r : addpd Vx, Wx ; vx
F3 0F 58 /r : addss Vdq, Wd ; vs
F2 0F 58 /r : addsd Vdq, Wq ; vs
NP 0F 59 /r : mulps Vx, Wx ; vx
66 0F 59 /r : mulpd Vx, Wx ; vx
F3 0F 59 /r : mulss Vdq, Wd ; vs
F2 0F 59 /r : mulsd Vdq, Wq ; vs
NP 0F 5A /r : cvtps2pd Vx, Wh ; vx2
66 0F 5A /r : cvtpd2ps Vdq, Wx ; vx2
F3 0F 5A /r : cvtss2sd Vdq, Wd ; vs
F2 0F 5A /r : cvtsd2ss Vdq, Wq ; vs
NP 0F 5B /r : cvtdq2ps Vx, Wx ; vx2
66 0F 5B /r : cvtps2dq Vx, Wx ; vx2
F3 0F 5B /r : cvttps2dq Vx, Wx ; vx2
NP 0F 5C /r : subps Vx, Wx ; vx
66 0F 5C /r : subpd Vx, Wx ; vx
F3 0F 5C /r : subss Vdq, Wd ; vs
F2 0F 5C /r : subsd Vdq, Wq ; vs
NP 0F 5D /r : minps Vx, Wx ; vx
66 0F 5D /r : minpd Vx, Wx ; vx
F3 0F 5D /r : minss Vdq, Wd ; vs
F2 0F 5D /r : minsd Vdq, Wq ; vs
NP 0F 5E /r : divps Vx, Wx ; vx
66 0F 5E /r : divpd Vx, Wx ; vx
F3 0F 5E /r : divss Vdq, Wd ; vs
F2 0F 5E /r : divsd Vdq, Wq ; vs
NP 0F 5F /r : maxps Vx, Wx ; vx
66 0F 5F /r : maxpd Vx, Wx ; vx
F3 0F 5F /r : maxss Vdq, Wd ; vs
F2 0F 5F /r : maxsd Vdq, Wq ; vs
NP 0F 60 /r : punpcklbw Pq, Qd
66 0F 60 /r : punpcklbw Vx, Wx ; vx
NP 0F 61 /r : punpcklwd Pq, Qd
66 0F 61 /r : punpcklwd Vx, Wx ; vx
NP 0F 62 /r : punpckldq Pq, Qd
66 0F 62 /r : punpckldq Vx, Wx ; vx
NP 0F 63 /r : packsswb Pq, Qq
66 0F 63 /r : packsswb Vx, Wx ; vx
NP 0F 64 /r : pcmpgtb Pq, Qq
66 0F 64 /r : pcmpgtb Vx, Wx ; vx
NP 0F 65 /r : pcmpgtw Pq, Qq
66 0F 65 /r : pcmpgtw Vx, Wx ; vx
NP 0F 66 /r : pcmpgtd Pq, Qq
66 0F 66 /r : pcmpgtd Vx, Wx ; vx
NP 0F 67 /r : packuswb Pq, Qq
66 0F 67 /r : packuswb Vx, Wx ; vx
NP 0F 68 /r : punpckhbw Pq, Qq
66 0F 68 /r : punpckhbw Vx, Wx ; vx
NP 0F 69 /r : punpckhwd Pq, Qq
66 0F 69 /r : punpckhwd Vx, Wx ; vx
NP 0F 6A /r : punpckhdq Pq, Qq
66 0F 6A /r : punpckhdq Vx, Wx ; vx
NP 0F 6B /r : packssdw Pq, Qq
66 0F 6B /r : packssdw Vx, Wx ; vx
66 0F 6C /r : punpcklqdq Vx, Wx ; vx
66 0F 6D /r : punpckhqdq Vx, Wx ; vx
NP 0F 6E /r W0 : movd Pq, Ed
NP 0F 6E /r W1 : movq Pq, Eq
66 0F 6E /r W0 : movd Vdq, Ed ; v12
66 0F 6E /r W1 : movq Vdq, Eq ; v12
NP 0F 6F /r : movq Pq, Qq
66 0F 6F /r : movdqa Vx, Wx ; vx2
F3 0F 6F /r : movdqu Vx, Wx ; vx2
NP 0F 70 /r : pshufw Pq, Qq, Ib
66 0F 70 /r : pshufd Vx, Wx, Ib ; vx2
F3 0F 70 /r : pshufhw Vx, Wx, Ib ; vx2
F2 0F 70 /r : pshuflw Vx, Wx, Ib ; vx2
NP 0F 71 /2 r : psrlw Nq, Ib
NP 0F 71 /4 r : psraw Nq, Ib
NP 0F 71 /6 r : psllw Nq, Ib
66 0F 71 /2 r : psrlw Udq, Ib
66 0F 71 /4 r : psraw Udq, Ib
66 0F 71 /6 r : psllw Udq, Ib
NP 0F 72 /2 r : psrld Nq, Ib
NP 0F 72 /4 r : psrad Nq, Ib
NP 0F 72 /6 r : pslld Nq, Ib
66 0F 72 /2 r : psrld Udq, Ib
66 0F 72 /4 r : psrad Udq, Ib
66 0F 72 /6 r : pslld Udq, Ib
NP 0F 73 /2 r : psrlq Nq, Ib
NP 0F 73 /6 r : psllq Nq, Ib
66 0F 73 /2 r : psrlq Udq, Ib
66 0F 73 /3 r : psrldq Udq, Ib
66 0F 73 /6 r : psllq Udq, Ib
66 0F 73 /7 r : pslldq Udq, Ib
NP 0F 74 /r : pcmpeqb Pq, Qq
66 0F 74 /r : pcmpeqb Vx, Wx ; vx
NP 0F 75 /r : pcmpeqw Pq, Qq
66 0F 75 /r : pcmpeqw Vx, Wx ; vx
NP 0F 76 /r : pcmpeqd Pq, Qq
66 0F 76 /r : pcmpeqd Vx, Wx ; vx
NP 0F 77 : emms
NP 0F 78 /r : vmread Em, Gm ; f64
NP 0F 79 /r : vmwrite Gm, Em ; f64
66 0F 78 /0 r : extrq Udq, Ib, Ib
66 0F 79 /r r : extrq Vdq, Udq
F2 0F 78 /r r : insertq Vdq, Udq, Ib, Ib
F2 0F 79 /r r : insertq Vdq, Udq
66 0F 7C /r : haddpd Vx, Wx ; vx
F2 0F 7C /r : haddps Vx, Wx ; vx
66 0F 7D /r : hsubpd Vx, Wx ; vx
F2 0F 7D /r : hsubps Vx, Wx ; vx
NP 0F 7E /r W0 : movd Ed, Pq
NP 0F 7E /r W1 : movq Eq, Pq
66 0F 7E /r W0 : movd Ed, Vdq ; v12
66 0F 7E /r W1 : movq Eq, Vdq ; v12
F3 0F 7E /r : movq Vdq, Wq ; v12
NP 0F 7F /r : movq Qq, Pq
66 0F 7F /r : movdqa Wx, Vx ; vx2
F3 0F 7F /r : movdqu Wx, Vx ; vx2
0F 80 : jo Jz ; f64
0F 81 : jno Jz ; f64
0F 82 : jb Jz ; f64
0F 83 : jae Jz ; f64
0F 84 : je Jz ; f64
0F 85 : jne Jz ; f64
0F 86 : jbe Jz ; f64
0F 87 : ja Jz ; f64
0F 88 : js Jz ; f64
0F 89 : jns Jz ; f64
0F 8A : jp Jz ; f64
0F 8B : jnp Jz ; f64
0F 8C : jl Jz ; f64
0F 8D : jge Jz ; f64
0F 8E : jle Jz ; f64
0F 8F : jg Jz ; f64
0F 90 /r : seto Eb
0F 91 /r : setno Eb
0F 92 /r : setb Eb
0F 93 /r : setae Eb
0F 94 /r : sete Eb
0F 95 /r : setne Eb
0F 96 /r : setbe Eb
0F 97 /r : seta Eb
0F 98 /r : sets Eb
0F 99 /r : setns Eb
0F 9A /r : setp Eb
0F 9B /r : setnp Eb
0F 9C /r : setl Eb
0F 9D /r : setge Eb
0F 9E /r : setle Eb
0F 9F /r : setg Eb
0F A0 : push FS ; d64
0F A1 : pop FS ; d64
0F A2 : cpuid
0F A3 /r : bt Ev, Gv
0F A4 /r : shld Ev, Gv, Ib
0F A5 /r : shld Ev, Gv, CL
0F A8 : push GS ; d64
0F A9 : pop GS ; d64
0F AA : rsm
0F AB /r : bts Ev, Gv ; lock
0F AC /r : shrd Ev, Gv, Ib
0F AD /r : shrd Ev, Gv, CL
NP 0F AE /0 m W0 : fxsave M512
NP 0F AE /0 m W1 : fxsave64 M512
NP 0F AE /1 m W0 : fxrstor M512
NP 0F AE /1 m W1 : fxrstor64 M512
NP 0F AE /2 m : ldmxcsr Md
NP 0F AE /3 m : stmxcsr Md
NP 0F AE /4 m W0 : xsave Mxs
NP 0F AE /4 m W1 : xsave64 Mxs
NP 0F AE /5 m W0 : xrstor Mxs
NP 0F AE /5 m W1 : xrstor64 Mxs
NP 0F AE /6 m W0 : xsaveopt Mxs
NP 0F AE /6 m W1 : xsaveopt64 Mxs
NP 0F AE /7 m : clflush Mb
66 0F AE /6 m : clwb Mb
66 0F AE /7 m : clflushopt Mb
NP 0F AE /5 r : lfence
NP 0F AE /6 r : mfence
66 0F AE /6 r : tpause Rd
F2 0F AE /6 r : umwait Rd
F3 0F AE /6 r : umonitor Rasz
F3 0F AE /6 m : clrssbsy Mq
NP 0F AE /7 r : sfence
F3 0F AE /0 r : rdfsbase Ry ; o64
F3 0F AE /1 r : rdgsbase Ry ; o64
F3 0F AE /2 r : wrfsbase Ry ; o64
F3 0F AE /3 r : wrgsbase Ry ; o64
F3 0F AE /4 : ptwrite Ey
F3 0F AE /5 r W0 : incsspd Rd
F3 0F AE /5 r W1 : incsspq Rq
0F AF /r : imul Gv, Ev
0F B0 /r : cmpxchg Eb, Gb ; lock
0F B1 /r : cmpxchg Ev, Gv ; lock
0F B2 /r : lss Gv, Mp
0F B3 /r : btr Ev, Gv ; lock
0F B4 /r : lfs Gv, Mp
0F B5 /r : lgs Gv, Mp
0F B6 /r : movzx Gv, Eb
0F B7 /r : movzx Gv, Ew
F3 0F B8 /r : popcnt Gv, Ev
0F B9 /r : ud1 Gd, Ed
0F BA /4 : bt Ev, Ib
0F BA /5 : bts Ev, Ib ; lock
0F BA /6 : btr Ev, Ib ; lock
0F BA /7 : btc Ev, Ib ; lock
0F BB /r : btc Ev, Gv ; lock
F3 0F BC /r : tzcnt Gv, Ev
0F BC /r : bsf Gv, Ev
F3 0F BD /r : lzcnt Gv, Ev
0F BD /r : bsr Gv, Ev
0F BE /r : movsx Gv, Eb
0F BF /r : movsx Gv, Ew
0F C0 /r : xadd Eb, Gb ; lock
0F C1 /r : xadd Ev, Gv ; lock
NP 0F C2 /r : cmpps Vx, Wx, Ib ; vx
66 0F C2 /r : cmppd Vx, Wx, Ib ; vx
F3 0F C2 /r : cmpss Vdq, Wd, Ib ; vs
F2 0F C2 /r : cmpsd.sse Vdq, Wq, Ib ; vs
NP 0F C3 /r m : movnti My, Gy
NP 0F C4 /r : pinsrw Pq, Edw, Ib
66 0F C4 /r : pinsrw Vdq, Edw, Ib ; v1
NP 0F C5 /r r : pextrw Gd, Nq, Ib
66 0F C5 /r r : pextrw Gd, Udq, Ib ; v12
NP 0F C6 /r : shufps Vx, Wx, Ib ; vx
66 0F C6 /r : shufpd Vx, Wx, Ib ; vx
0F C7 /1 m W0 : cmpxchg8b Mq ; lock
0F C7 /1 m W1 : cmpxchg16b Mdq ; lock
NP 0F C7 /3 m W0 : xrstors Mxs
NP 0F C7 /3 m W1 : xrstors64 Mxs
NP 0F C7 /4 m W0 : xsavec Mxs
NP 0F C7 /4 m W1 : xsavec64 Mxs
NP 0F C7 /5 m W0 : xsaves Mxs
NP 0F C7 /5 m W1 : xsaves64 Mxs
NP 0F C7 /6 m : vmptrld Mq
66 0F C7 /6 m : vmclear Mq
F3 0F C7 /6 m : vmxon Mq
NP 0F C7 /7 m : vmptrst Mq
F3 0F C7 /7 r : rdpid Rm
0F C7 /6 r : rdrand Rv
0F C7 /7 r : rdseed Rv
0F C8+r : bswap Zv
66 0F D0 /r : addsubpd Vx, Wx ; vx
F2 0F D0 /r : addsubps Vx, Wx ; vx
NP 0F D1 /r : psrlw Pq, Qq
66 0F D1 /r : psrlw Vx, Wdq ; vx
NP 0F D2 /r : psrld Pq, Qq
66 0F D2 /r : psrld Vx, Wdq ; vx
NP 0F D3 /r : psrlq Pq, Qq
66 0F D3 /r : psrlq Vx, Wdq ; vx
NP 0F D4 /r : paddq Pq, Qq
66 0F D4 /r : paddq Vx, Wx ; vx
NP 0F D5 /r : pmullw Pq, Qq
66 0F D5 /r : pmullw Vx, Wx ; vx
66 0F D6 /r : movq Wq, Vdq ; v12
F3 0F D6 /r r : movq2dq Vdq, Nq
F2 0F D6 /r r : movdq2q Pq, Udq
NP 0F D7 /r r : pmovmskb Gd, Nq
66 0F D7 /r r : pmovmskb Gd, Ux ; vx2
NP 0F D8 /r : psubusb Pq, Qq
66 0F D8 /r : psubusb Vx, Wx ; vx
NP 0F D9 /r : psubusw Pq, Qq
66 0F D9 /r : psubusw Vx, Wx ; vx
NP 0F DA /r : pminub Pq, Qq
66 0F DA /r : pminub Vx, Wx ; vx
NP 0F DB /r : pand Pq, Qq
66 0F DB /r : pand Vx, Wx ; vx
NP 0F DC /r : paddusb Pq, Qq
66 0F DC /r : paddusb Vx, Wx ; vx
NP 0F DD /r : paddusw Pq, Qq
66 0F DD /r : paddusw Vx, Wx ; vx
NP 0F DE /r : pmaxub Pq, Qq
66 0F DE /r : pmaxub Vx, Wx ; vx
NP 0F DF /r : pandn Pq, Qq
66 0F DF /r : pandn Vx, Wx ; vx
NP 0F E0 /r : pavgb Pq, Qq
66 0F E0 /r : pavgb Vx, Wx ; vx
NP 0F E1 /r : psraw Pq, Qq
66 0F E1 /r : psraw Vx, Wdq ; vx
NP 0F E2 /r : psrad Pq, Qq
66 0F E2 /r : psrad Vx, Wdq ; vx
NP 0F E3 /r : pavgw Pq, Qq
66 0F E3 /r : pavgw Vx, Wx ; vx
NP 0F E4 /r : pmulhuw Pq, Qq
66 0F E4 /r : pmulhuw Vx, Wx ; vx
NP 0F E5 /r : pmulhw Pq, Qq
66 0F E5 /r : pmulhw Vx, Wx ; vx
66 0F E6 /r : cvttpd2dq Vdq, Wx ; vx2
F3 0F E6 /r : cvtdq2pd Vx, Wh ; vx2
F2 0F E6 /r : cvtpd2dq Vdq, Wx ; vx2
NP 0F E7 /r m : movntq Mq, Pq
66 0F E7 /r m : movntdq Mx, Vx ; vx2
NP 0F E8 /r : psubsb Pq, Qq
66 0F E8 /r : psubsb Vx, Wx ; vx
NP 0F E9 /r : psubsw Pq, Qq
66 0F E9 /r : psubsw Vx, Wx ; vx
NP 0F EA /r : pminsw Pq, Qq
66 0F EA /r : pminsw Vx, Wx ; vx
NP 0F EB /r : por Pq, Qq
66 0F EB /r : por Vx, Wx ; vx
NP 0F EC /r : paddsb Pq, Qq
66 0F EC /r : paddsb Vx, Wx ; vx
NP 0F ED /r : paddsw Pq, Qq
66 0F ED /r : paddsw Vx, Wx ; vx
NP 0F EE /r : pmaxsw Pq, Qq
66 0F EE /r : pmaxsw Vx, Wx ; vx
NP 0F EF /r : pxor Pq, Qq
66 0F EF /r : pxor Vx, Wx ; vx
F2 0F F0 /r m : lddqu Vx, Mx ; vx2
NP 0F F1 /r : psllw Pq, Qq
66 0F F1 /r : psllw Vx, Wdq ; vx
NP 0F F2 /r : pslld Pq, Qq
66 0F F2 /r : pslld Vx, Wdq ; vx
NP 0F F3 /r : psllq Pq, Qq
66 0F F3 /r : psllq Vx, Wdq ; vx
NP 0F F4 /r : pmuludq Pq, Qq
66 0F F4 /r : pmuludq Vx, Wx ; vx
NP 0F F5 /r : pmaddwd Pq, Qq
66 0F F5 /r : pmaddwd Vx, Wx ; vx
NP 0F F6 /r : psadbw Pq, Qq
66 0F F6 /r : psadbw Vx, Wx ; vx
NP 0F F7 /r r : maskmovq Pq, Nq
66 0F F7 /r r : maskmovdqu Vdq, Udq ; v12
NP 0F F8 /r : psubb Pq, Qq
66 0F F8 /r : psubb Vx, Wx ; vx
NP 0F F9 /r : psubw Pq, Qq
66 0F F9 /r : psubw Vx, Wx ; vx
NP 0F FA /r : psubd Pq, Qq
66 0F FA /r : psubd Vx, Wx ; vx
NP 0F FB /r : psubq Pq, Qq
66 0F FB /r : psubq Vx, Wx ; vx
NP 0F FC /r : paddb Pq, Qq
66 0F FC /r : paddb Vx, Wx ; vx
NP 0F FD /r : paddw Pq, Qq
66 0F FD /r : paddw Vx, Wx ; vx
NP 0F FE /r : paddd Pq, Qq
66 0F FE /r : paddd Vx, Wx ; vx
0F FF /r : ud0 Gd, Ed
"""
