// The one-byte opcode map (SDM vol. 2, appendix A, table A-2).
//
// The encodings half of X86ISA's description (the other half, what each mnemonic does, is
// Semantics.swift). Notation (parsed by X86Decoder's TableBuilder.swift and ISAGenerator):
//   [NP|66|F3|F2] [0F [38|3A]] OPCODE[+r] [MODRM] [/r|/0../7] [m|r] [W0|W1] : mnemonic operands ; flags
// A literal ModRM byte after the opcode fixes mod = 11, reg and rm.
// Operand codes follow appendix A.2 (Eb, Gv, Iz, Jb, ...); see OperandSpec.swift.
// Flags: lock (LOCK allowed with a memory destination), rep / repe (string
// prefixes), d64 (64-bit default operand size), f64 (64-bit operand size in
// 64-bit mode), i64 (invalid in 64-bit mode), o64 (64-bit mode only),
// nomod (ModRM.mod is ignored: the r/m field names a register), byaddr
// (mnemonic variants chosen by address size instead of operand size), intel /
// amd (the form is that vendor's reading; the first matching line wins).
// Lines starting with # are comments.
// A mnemonic "a|b|c" is chosen by operand size 16|32|64. A mnemonic "name.tag" prints as
// "name" but is a mnemonic of its own (movsd.sse, SSE2's MOVSD, is not the string MOVSD).

public let oneByteSpec = """
00 /r : add Eb, Gb ; lock
01 /r : add Ev, Gv ; lock
02 /r : add Gb, Eb
03 /r : add Gv, Ev
04 : add AL, Ib
05 : add rAX, Iz
06 : push ES ; i64
07 : pop ES ; i64
08 /r : or Eb, Gb ; lock
09 /r : or Ev, Gv ; lock
0A /r : or Gb, Eb
0B /r : or Gv, Ev
0C : or AL, Ib
0D : or rAX, Iz
0E : push CS ; i64
10 /r : adc Eb, Gb ; lock
11 /r : adc Ev, Gv ; lock
12 /r : adc Gb, Eb
13 /r : adc Gv, Ev
14 : adc AL, Ib
15 : adc rAX, Iz
16 : push SS ; i64
17 : pop SS ; i64
18 /r : sbb Eb, Gb ; lock
19 /r : sbb Ev, Gv ; lock
1A /r : sbb Gb, Eb
1B /r : sbb Gv, Ev
1C : sbb AL, Ib
1D : sbb rAX, Iz
1E : push DS ; i64
1F : pop DS ; i64
20 /r : and Eb, Gb ; lock
21 /r : and Ev, Gv ; lock
22 /r : and Gb, Eb
23 /r : and Gv, Ev
24 : and AL, Ib
25 : and rAX, Iz
27 : daa ; i64
28 /r : sub Eb, Gb ; lock
29 /r : sub Ev, Gv ; lock
2A /r : sub Gb, Eb
2B /r : sub Gv, Ev
2C : sub AL, Ib
2D : sub rAX, Iz
2F : das ; i64
30 /r : xor Eb, Gb ; lock
31 /r : xor Ev, Gv ; lock
32 /r : xor Gb, Eb
33 /r : xor Gv, Ev
34 : xor AL, Ib
35 : xor rAX, Iz
37 : aaa ; i64
38 /r : cmp Eb, Gb
39 /r : cmp Ev, Gv
3A /r : cmp Gb, Eb
3B /r : cmp Gv, Ev
3C : cmp AL, Ib
3D : cmp rAX, Iz
3F : aas ; i64
40+r : inc Zv ; i64
48+r : dec Zv ; i64
50+r : push Zv ; d64
58+r : pop Zv ; d64
60 : pushaw|pushal|pushal ; i64
61 : popaw|popal|popal ; i64
62 /r : bound Gv, Ma ; i64
63 /r : arpl Ew, Gw ; i64
# MOVSXD with 66: Intel reads a word from memory, AMD a dword (each host faults at a page end
# accordingly); the register forms agree.
63 /r : movsxd Gv, Ez ; o64 intel
63 /r : movsxd Gv, Ezd ; o64
68 : push Iz ; d64
69 /r : imul Gv, Ev, Iz
6A : push Ibs ; d64
6B /r : imul Gv, Ev, Ibs
6C : insb Yb, DX ; rep
6D : insw|insd|insd Yz, DX ; rep
6E : outsb DX, Xb ; rep
6F : outsw|outsd|outsd DX, Xz ; rep
70 : jo Jb ; f64
71 : jno Jb ; f64
72 : jb Jb ; f64
73 : jae Jb ; f64
74 : je Jb ; f64
75 : jne Jb ; f64
76 : jbe Jb ; f64
77 : ja Jb ; f64
78 : js Jb ; f64
79 : jns Jb ; f64
7A : jp Jb ; f64
7B : jnp Jb ; f64
7C : jl Jb ; f64
7D : jge Jb ; f64
7E : jle Jb ; f64
7F : jg Jb ; f64
80 /0 : add Eb, Ib ; lock
80 /1 : or Eb, Ib ; lock
80 /2 : adc Eb, Ib ; lock
80 /3 : sbb Eb, Ib ; lock
80 /4 : and Eb, Ib ; lock
80 /5 : sub Eb, Ib ; lock
80 /6 : xor Eb, Ib ; lock
80 /7 : cmp Eb, Ib
81 /0 : add Ev, Iz ; lock
81 /1 : or Ev, Iz ; lock
81 /2 : adc Ev, Iz ; lock
81 /3 : sbb Ev, Iz ; lock
81 /4 : and Ev, Iz ; lock
81 /5 : sub Ev, Iz ; lock
81 /6 : xor Ev, Iz ; lock
81 /7 : cmp Ev, Iz
82 /0 : add Eb, Ib ; lock i64
82 /1 : or Eb, Ib ; lock i64
82 /2 : adc Eb, Ib ; lock i64
82 /3 : sbb Eb, Ib ; lock i64
82 /4 : and Eb, Ib ; lock i64
82 /5 : sub Eb, Ib ; lock i64
82 /6 : xor Eb, Ib ; lock i64
82 /7 : cmp Eb, Ib ; i64
83 /0 : add Ev, Ibs ; lock
83 /1 : or Ev, Ibs ; lock
83 /2 : adc Ev, Ibs ; lock
83 /3 : sbb Ev, Ibs ; lock
83 /4 : and Ev, Ibs ; lock
83 /5 : sub Ev, Ibs ; lock
83 /6 : xor Ev, Ibs ; lock
83 /7 : cmp Ev, Ibs
84 /r : test Eb, Gb
85 /r : test Ev, Gv
86 /r : xchg Eb, Gb ; lock
87 /r : xchg Ev, Gv ; lock
88 /r : mov Eb, Gb
89 /r : mov Ev, Gv
8A /r : mov Gb, Eb
8B /r : mov Gv, Ev
8C /r : mov Evw, Sw
8D /r : lea Gv, M
8E /r : mov Sw, Ew
8F /0 : pop Ev ; d64
# F3 REX.B 90: Intel ignores REX.B and pauses; AMD exchanges r8 and rAX (seen on each host).
F3 90 : pause ; intel
F3 90 : pause ; norexb
90 : nop ; norexb
90+r : xchg rAX, Zv
98 : cbw|cwde|cdqe
99 : cwd|cdq|cqo
9A : lcall Ap ; i64
9B : wait
9C : pushf|pushfd|pushfq ; d64
9D : popf|popfd|popfq ; d64
9E : sahf
9F : lahf
A0 : mov AL, Ob
A1 : mov rAX, Ov
A2 : mov Ob, AL
A3 : mov Ov, rAX
A4 : movsb Yb, Xb ; rep
A5 : movsw|movsd|movsq Yv, Xv ; rep
A6 : cmpsb Xb, Yb ; repe
A7 : cmpsw|cmpsd|cmpsq Xv, Yv ; repe
A8 : test AL, Ib
A9 : test rAX, Iz
AA : stosb Yb, AL ; rep
AB : stosw|stosd|stosq Yv, rAX ; rep
AC : lodsb AL, Xb ; rep
AD : lodsw|lodsd|lodsq rAX, Xv ; rep
AE : scasb AL, Yb ; repe
AF : scasw|scasd|scasq rAX, Yv ; repe
B0+r : mov Zb, Ib
B8+r : mov Zv, Iv
C0 /0 : rol Eb, Ib
C0 /1 : ror Eb, Ib
C0 /2 : rcl Eb, Ib
C0 /3 : rcr Eb, Ib
C0 /4 : shl Eb, Ib
C0 /5 : shr Eb, Ib
C0 /6 : sal Eb, Ib
C0 /7 : sar Eb, Ib
C1 /0 : rol Ev, Ib
C1 /1 : ror Ev, Ib
C1 /2 : rcl Ev, Ib
C1 /3 : rcr Ev, Ib
C1 /4 : shl Ev, Ib
C1 /5 : shr Ev, Ib
C1 /6 : sal Ev, Ib
C1 /7 : sar Ev, Ib
C2 : ret Iw ; f64
C3 : ret ; f64
C4 /r : les Gz, Mp ; i64
C5 /r : lds Gz, Mp ; i64
C6 F8 : xabort Ib
C6 /0 : mov Eb, Ib
C7 F8 : xbegin Jz
C7 /0 : mov Ev, Iz
C8 : enter Iw, Ib ; d64
C9 : leave ; d64
CA : retf|retf|retfq Iw
CB : retf|retf|retfq
CC : int3
CD : int Ib
CE : into ; i64
CF : iret|iretd|iretq
D0 /0 : rol Eb, 1
D0 /1 : ror Eb, 1
D0 /2 : rcl Eb, 1
D0 /3 : rcr Eb, 1
D0 /4 : shl Eb, 1
D0 /5 : shr Eb, 1
D0 /6 : sal Eb, 1
D0 /7 : sar Eb, 1
D1 /0 : rol Ev, 1
D1 /1 : ror Ev, 1
D1 /2 : rcl Ev, 1
D1 /3 : rcr Ev, 1
D1 /4 : shl Ev, 1
D1 /5 : shr Ev, 1
D1 /6 : sal Ev, 1
D1 /7 : sar Ev, 1
D2 /0 : rol Eb, CL
D2 /1 : ror Eb, CL
D2 /2 : rcl Eb, CL
D2 /3 : rcr Eb, CL
D2 /4 : shl Eb, CL
D2 /5 : shr Eb, CL
D2 /6 : sal Eb, CL
D2 /7 : sar Eb, CL
D3 /0 : rol Ev, CL
D3 /1 : ror Ev, CL
D3 /2 : rcl Ev, CL
D3 /3 : rcr Ev, CL
D3 /4 : shl Ev, CL
D3 /5 : shr Ev, CL
D3 /6 : sal Ev, CL
D3 /7 : sar Ev, CL
D4 : aam Ib ; i64
D5 : aad Ib ; i64
D6 : salc ; i64
D7 : xlatb
E0 : loopne Jb ; f64
E1 : loope Jb ; f64
E2 : loop Jb ; f64
E3 : jcxz|jecxz|jrcxz Jb ; f64 byaddr
E4 : in AL, Ib
E5 : in eAX, Ib
E6 : out Ib, AL
E7 : out Ib, eAX
E8 : call Jz ; f64
E9 : jmp Jz ; f64
EA : ljmp Ap ; i64
EB : jmp Jb ; f64
EC : in AL, DX
ED : in eAX, DX
EE : out DX, AL
EF : out DX, eAX
F1 : int1
F4 : hlt
F5 : cmc
F6 /0 : test Eb, Ib
F6 /1 : test Eb, Ib
F6 /2 : not Eb ; lock
F6 /3 : neg Eb ; lock
F6 /4 : mul Eb
F6 /5 : imul Eb
F6 /6 : div Eb
F6 /7 : idiv Eb
F7 /0 : test Ev, Iz
F7 /1 : test Ev, Iz
F7 /2 : not Ev ; lock
F7 /3 : neg Ev ; lock
F7 /4 : mul Ev
F7 /5 : imul Ev
F7 /6 : div Ev
F7 /7 : idiv Ev
F8 : clc
F9 : stc
FA : cli
FB : sti
FC : cld
FD : std
FE /0 : inc Eb ; lock
FE /1 : dec Eb ; lock
FF /0 : inc Ev ; lock
FF /1 : dec Ev ; lock
FF /2 : call Ev ; f64
FF /3 : lcall Mp
FF /4 : jmp Ev ; f64
FF /5 : ljmp Mp
FF /6 : push Ev ; d64
"""
