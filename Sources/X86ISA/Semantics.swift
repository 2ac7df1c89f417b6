// What each mnemonic does: the semantic half of X86ISA's description (the encodings are in
// Encodings/, one line per form). ISAGenerator turns this table into Generated/Mnemonic.swift
// (`make isa`); X86CPU binds its handlers by the family, CPUCheck takes its undefined-flag
// masks from it, and the CPU gates on the feature where a VMM can turn the instruction off.
//
// Notation, one line per group of mnemonics with the same facts:
//   FAMILY [ATTRIBUTE...] : MNEMONIC...
// FAMILY, the interpreter's handler family:
//   integer      general-purpose instructions (Execute.swift and the integer files)
//   system       privileged and mode-dependent instructions (System.swift and friends)
//   x87          x87 FPU (X87*.swift)
//   mmx          instructions that exist only in MMX forms (MMX.swift)
//   sse-integer  SSE/SSE2/SSSE3/SSE4 integer and data movement (SSE.swift, SSEInteger.swift)
//   sse-float    SSE/SSE2/SSE3/SSE4.1 floating point (SSEFloat.swift)
//   bmi          VEX-encoded general-register instructions (BMI1, BMI2)
// ATTRIBUTES (the flags as the SDM's "Flags Affected" names them: cf pf af zf sf of tf if df
// ac, `all` for the whole of RFLAGS):
//   r=F,F        flags read          w=F,F   flags written with a defined value
//   u=F,F        flags left undefined (a host comparison masks them)
//   count        the flags depend on a shift count: a count of 0 changes none, `u` lists those
//                undefined otherwise, and OF is defined for a count of 1
//   count-wide   as count, and a count beyond the operand's width leaves CF and OF undefined
//   cc=jump|set|move   Jcc, SETcc, CMOVcc: the condition is the mnemonic's suffix (o no b ae
//                e ne be a s ns p np l ge le g), and the flags it reads are the condition's
//   cpuid=NAME   the CPUID feature that reports it (Identification.swift's feature names)
//   gated        executes only when the CPU model reports that feature: VMX and SVM can
//                turn these off for a guest (INVPCID, RDPID), so a hidden one is #UD
//   as=MNEMONIC  runs as that mnemonic (hint forms that are NOPs here)
// A mnemonic listed nowhere is decoded but not executed: #UD from the interpreter.

public let semanticsSpec = """
# The integer instructions.
integer w=of,sf,zf,af,pf,cf : add sub cmp neg xadd cmpxchg
integer r=cf w=of,sf,zf,af,pf,cf : adc sbb
integer w=of,sf,zf,pf,cf u=af : and or xor test
integer w=of,sf,zf,af,pf : inc dec
integer : not mov movzx movsx movsxd lea xchg bswap nop push pop
integer as=nop : endbr64 endbr32
integer cc=jump : jo jno jb jae je jne jbe ja js jns jp jnp jl jge jle jg
integer cc=set : seto setno setb setae sete setne setbe seta sets setns setp setnp setl setge setle setg
integer cc=move cpuid=cmov : cmovo cmovno cmovb cmovae cmove cmovne cmovbe cmova cmovs cmovns cmovp cmovnp cmovl cmovge cmovle cmovg
integer : jmp call ret jcxz jecxz jrcxz loop
integer r=zf : loope loopne
integer w=of,cf u=of count : rol ror
integer r=cf w=of,cf u=of count : rcl rcr
integer w=of,sf,zf,pf,cf u=of,af count-wide : shl sal shr sar
integer w=of,sf,zf,pf,cf u=of,af count : shld shrd
integer w=of,cf u=sf,zf,af,pf : mul imul
integer u=of,sf,zf,af,pf,cf : div idiv
integer : cbw cwde cdqe cwd cdq cqo
integer r=af,cf w=sf,zf,af,pf,cf u=of : daa das
integer r=af w=af,cf u=of,sf,zf,pf : aaa aas
integer w=sf,zf,pf u=of,af,cf : aam aad
integer r=cf : salc
integer w=cf : clc stc
integer r=cf w=cf : cmc
integer w=df : cld std
integer r=sf,zf,af,pf,cf : lahf
integer w=sf,zf,af,pf,cf : sahf
integer w=cf u=of,sf,af,pf : bt bts btr btc
integer w=zf u=of,sf,af,pf,cf : bsf bsr
integer r=df : movsb movsw movsd movsq stosb stosw stosd stosq lodsb lodsw lodsd lodsq
integer r=df w=of,sf,zf,af,pf,cf : cmpsb cmpsw cmpsd cmpsq scasb scasw scasd scasq
integer w=zf cpuid=cx8 : cmpxchg8b
integer w=zf cpuid=cx16 : cmpxchg16b
integer w=of,sf,zf,af,pf,cf cpuid=popcnt : popcnt
integer w=zf,cf u=of,sf,af,pf cpuid=bmi1 : tzcnt
integer w=zf,cf u=of,sf,af,pf cpuid=abm : lzcnt
integer cpuid=movbe : movbe
integer cpuid=sse4.2 : crc32
integer : leave enter
integer r=all : pushf pushfd pushfq
integer w=all : popf popfd popfq
integer : cpuid rdtsc
integer cpuid=rdtscp : rdtscp
integer w=of,sf,zf,af,pf,cf cpuid=rdrand : rdrand
integer w=of,sf,zf,af,pf,cf cpuid=rdseed : rdseed
integer r=cf w=cf cpuid=adx : adcx
integer r=of w=of cpuid=adx : adox

# VEX-encoded general-register instructions.
bmi w=of,sf,zf,cf u=af,pf cpuid=bmi1 : andn blsi blsmsk blsr
bmi w=of,zf,cf u=af,sf,pf cpuid=bmi1 : bextr
bmi w=of,sf,zf,cf u=af,pf cpuid=bmi2 : bzhi
bmi cpuid=bmi2 : pdep pext rorx sarx shlx shrx mulx

# System instructions.
system : lgdt lidt sgdt sidt lldt sldt ltr str lmsw smsw clts invlpg invd wbinvd
system cpuid=msr : rdmsr wrmsr
system : ljmp lcall retf retfq hlt
system w=all : iret iretd iretq
system w=tf,if,ac : int int3 int1
system r=of w=tf,if,ac : into
system w=if : cli sti
system r=df : insb insw insd outsb outsw outsd
system : in out
system w=all cpuid=syscall : syscall sysret
system w=if cpuid=sep : sysenter
system cpuid=sep : sysexit
system cpuid=lm : swapgs
system : lds les lss lfs lgs pushaw pushal popaw popal ud2 ud0 ud1 xlatb bound
system w=zf : arpl lar lsl verr verw
system cpuid=xsave : xgetbv xsetbv xsave xsave64 xsaveopt xsaveopt64 xrstor xrstor64
system cpuid=rdpid gated : rdpid
system cpuid=fsgsbase : rdfsbase rdgsbase wrfsbase wrgsbase
system cpuid=invpcid gated : invpcid
system cpuid=pku : rdpkru wrpkru
system w=ac cpuid=smap : stac clac
# Hypercalls: #UD outside a VM; in one, the CPU model's vendor's form exits to the VMM.
system : vmcall vmmcall

# SSE, SSE2, SSSE3, SSE4.1 and SSE4.2: integer and data movement.
sse-integer cpuid=sse2 : movdqa movdqu movapd movupd movd movq pshufd pmovmskb pxor por pand pandn xorpd orpd andpd andnpd
sse-integer cpuid=sse : movaps movups xorps orps andps andnps
sse-integer cpuid=sse2 : paddb paddw paddd paddq psubb psubw psubd psubq paddsb paddsw psubsb psubsw
sse-integer cpuid=sse2 : paddusb paddusw psubusb psubusw pcmpeqb pcmpeqw pcmpeqd pcmpgtb pcmpgtw pcmpgtd
sse-integer cpuid=sse2 : pminub pmaxub pminsw pmaxsw pavgb pavgw pmullw pmulhw pmulhuw pmuludq
sse-integer cpuid=sse2 : punpcklbw punpcklwd punpckldq punpcklqdq punpckhbw punpckhwd punpckhdq punpckhqdq
sse-integer cpuid=sse2 : psllw pslld psllq psrlw psrld psrlq psraw psrad pslldq psrldq
sse-integer cpuid=sse2 : packsswb packssdw packuswb pmaddwd psadbw pshuflw pshufhw pinsrw pextrw maskmovdqu
sse-integer cpuid=sse4.1 : packusdw pinsrb pinsrd pinsrq pextrb pextrd pextrq extractps
sse-integer cpuid=ssse3 : pshufb phaddw phaddd phaddsw phsubw phsubd phsubsw pmaddubsw psignb psignw psignd
sse-integer cpuid=ssse3 : pmulhrsw pabsb pabsw pabsd palignr
sse-integer cpuid=sse4.1 : pblendvb blendvps blendvpd pblendw blendps blendpd
sse-integer w=of,sf,zf,af,pf,cf cpuid=sse4.1 : ptest
sse-integer cpuid=sse4.1 : pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq pmovsxdq
sse-integer cpuid=sse4.1 : pmovzxbw pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq
sse-integer cpuid=sse4.1 : pmuldq pcmpeqq movntdqa pminsb pminsd pminuw pminud pmaxsb pmaxsd pmaxuw pmaxud
sse-integer cpuid=sse4.1 : pmulld phminposuw mpsadbw insertps
sse-integer cpuid=sse4.2 : pcmpgtq
sse-integer cpuid=pclmulqdq : pclmulqdq
sse-integer w=of,sf,zf,af,pf,cf cpuid=sse4.2 : pcmpestri pcmpestrm pcmpistri pcmpistrm

# SSE, SSE2, SSE3 and SSE4.1 floating point.
sse-float cpuid=sse : addps addss subps subss mulps mulss divps divss minps minss maxps maxss
sse-float cpuid=sse2 : addpd addsd subpd subsd mulpd mulsd divpd divsd minpd minsd maxpd maxsd
sse-float cpuid=sse : sqrtps sqrtss rcpps rcpss rsqrtps rsqrtss cmpps cmpss
sse-float cpuid=sse2 : sqrtpd sqrtsd cmppd cmpsd.sse
sse-float cpuid=sse3 : addsubps addsubpd haddps haddpd hsubps hsubpd movsldup movshdup movddup lddqu
sse-float w=of,sf,zf,af,pf,cf cpuid=sse : comiss ucomiss
sse-float w=of,sf,zf,af,pf,cf cpuid=sse2 : comisd ucomisd
sse-float cpuid=sse : cvtsi2ss cvtss2si cvttss2si
sse-float cpuid=sse2 : cvtsi2sd cvtsd2si cvttsd2si cvtss2sd cvtsd2ss
sse-float cpuid=sse2 : cvtps2pd cvtpd2ps cvtdq2ps cvtps2dq cvttps2dq cvtdq2pd cvtpd2dq cvttpd2dq
sse-float cpuid=sse : movss movlps movhps movhlps movlhps movmskps movntps unpcklps unpckhps shufps
sse-float cpuid=sse2 : movsd.sse movlpd movhpd movmskpd movntpd movntdq movnti unpcklpd unpckhpd shufpd
sse-float cpuid=sse : ldmxcsr stmxcsr sfence prefetchnta prefetcht0 prefetcht1 prefetcht2
sse-float cpuid=sse2 : lfence mfence pause
sse-float cpuid=clflush : clflush
sse-float cpuid=clflushopt : clflushopt
sse-float cpuid=clwb : clwb
sse-float cpuid=3dnowprefetch : prefetch prefetchw
sse-float cpuid=sse4.1 : roundps roundpd roundss roundsd dpps dppd

# x87.
x87 cpuid=fpu : fld fst fstp fstpnce fild fist fistp fbld fbstp
x87 cpuid=sse3 : fisttp
x87 cpuid=fpu : fadd faddp fiadd fsub fsubp fisub fsubr fsubrp fisubr fmul fmulp fimul
x87 cpuid=fpu : fdiv fdivp fidiv fdivr fdivrp fidivr
x87 cpuid=fpu : fcom fcomp fcompp fucom fucomp fucompp ficom ficomp ftst fxam
x87 w=of,sf,zf,af,pf,cf cpuid=cmov : fcomi fcomip fucomi fucomip
x87 cpuid=fpu : fchs fabs fld1 fldl2t fldl2e fldpi fldlg2 fldln2 fldz fxch fsqrt frndint fscale fxtract
x87 cpuid=fpu : fprem fprem1 fincstp fdecstp ffree ffreep fnstsw fnstcw fldcw fnclex fninit
x87 cpuid=fpu : fnstenv fldenv fnsave frstor
x87 cpuid=fxsr : fxsave fxsave64 fxrstor fxrstor64
x87 r=cf cpuid=cmov : fcmovb fcmovnb
x87 r=zf cpuid=cmov : fcmove fcmovne
x87 r=zf,cf cpuid=cmov : fcmovbe fcmovnbe
x87 r=pf cpuid=cmov : fcmovu fcmovnu
x87 cpuid=fpu : wait fnop feni8087_nop fdisi8087_nop fsetpm287_nop
x87 cpuid=fpu : fsin fcos fsincos fptan fpatan f2xm1 fyl2x fyl2xp1

# Instructions that exist only in MMX forms (the shared mnemonics run there too when an
# operand is an MMX register).
mmx cpuid=sse : pshufw maskmovq movntq cvtpi2ps cvtps2pi cvttps2pi
mmx cpuid=sse2 : movq2dq movdq2q cvtpi2pd cvtpd2pi cvttpd2pi
mmx cpuid=mmx : emms
"""
