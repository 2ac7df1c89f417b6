// The x87 escape opcodes D8-DF (SDM vol. 2, appendix A.4). Memory forms are
// selected by ModRM.reg; register forms by reg, or by the whole ModRM byte.

public let x87Spec = """
D8 /0 m : fadd Md
D8 /1 m : fmul Md
D8 /2 m : fcom Md
D8 /3 m : fcomp Md
D8 /4 m : fsub Md
D8 /5 m : fsubr Md
D8 /6 m : fdiv Md
D8 /7 m : fdivr Md
D8 /0 r : fadd ST0, STi
D8 /1 r : fmul ST0, STi
D8 /2 r : fcom ST0, STi
D8 /3 r : fcomp ST0, STi
D8 /4 r : fsub ST0, STi
D8 /5 r : fsubr ST0, STi
D8 /6 r : fdiv ST0, STi
D8 /7 r : fdivr ST0, STi
D9 /0 m : fld Md
D9 /2 m : fst Md
D9 /3 m : fstp Md
D9 /4 m : fldenv Menv
D9 /5 m : fldcw Mw
D9 /6 m : fnstenv Menv
D9 /7 m : fnstcw Mw
D9 /0 r : fld STi
D9 /1 r : fxch STi
D9 /3 r : fstpnce STi
D9 D0 : fnop
D9 E0 : fchs
D9 E1 : fabs
D9 E4 : ftst
D9 E5 : fxam
D9 E8 : fld1
D9 E9 : fldl2t
D9 EA : fldl2e
D9 EB : fldpi
D9 EC : fldlg2
D9 ED : fldln2
D9 EE : fldz
D9 F0 : f2xm1
D9 F1 : fyl2x
D9 F2 : fptan
D9 F3 : fpatan
D9 F4 : fxtract
D9 F5 : fprem1
D9 F6 : fdecstp
D9 F7 : fincstp
D9 F8 : fprem
D9 F9 : fyl2xp1
D9 FA : fsqrt
D9 FB : fsincos
D9 FC : frndint
D9 FD : fscale
D9 FE : fsin
D9 FF : fcos
DA /0 m : fiadd Md
DA /1 m : fimul Md
DA /2 m : ficom Md
DA /3 m : ficomp Md
DA /4 m : fisub Md
DA /5 m : fisubr Md
DA /6 m : fidiv Md
DA /7 m : fidivr Md
DA /0 r : fcmovb ST0, STi
DA /1 r : fcmove ST0, STi
DA /2 r : fcmovbe ST0, STi
DA /3 r : fcmovu ST0, STi
DA E9 : fucompp
DB /0 m : fild Md
DB /1 m : fisttp Md
DB /2 m : fist Md
DB /3 m : fistp Md
DB /5 m : fld Mt
DB /7 m : fstp Mt
DB /0 r : fcmovnb ST0, STi
DB /1 r : fcmovne ST0, STi
DB /2 r : fcmovnbe ST0, STi
DB /3 r : fcmovnu ST0, STi
DB E0 : feni8087_nop
DB E1 : fdisi8087_nop
DB E2 : fnclex
DB E3 : fninit
DB E4 : fsetpm287_nop
DB /5 r : fucomi ST0, STi
DB /6 r : fcomi ST0, STi
DC /0 m : fadd Mq
DC /1 m : fmul Mq
DC /2 m : fcom Mq
DC /3 m : fcomp Mq
DC /4 m : fsub Mq
DC /5 m : fsubr Mq
DC /6 m : fdiv Mq
DC /7 m : fdivr Mq
DC /0 r : fadd STi, ST0
DC /2 r : fcom STi
DC /3 r : fcomp STi
DC /1 r : fmul STi, ST0
DC /4 r : fsubr STi, ST0
DC /5 r : fsub STi, ST0
DC /6 r : fdivr STi, ST0
DC /7 r : fdiv STi, ST0
DD /0 m : fld Mq
DD /1 m : fisttp Mq
DD /2 m : fst Mq
DD /3 m : fstp Mq
DD /4 m : frstor Mstate
DD /6 m : fnsave Mstate
DD /7 m : fnstsw Mw
DD /0 r : ffree STi
DD /2 r : fst STi
DD /3 r : fstp STi
DD /4 r : fucom STi
DD /5 r : fucomp STi
DD /1 r : fxch STi
DE /0 m : fiadd Mw
DE /1 m : fimul Mw
DE /2 m : ficom Mw
DE /3 m : ficomp Mw
DE /4 m : fisub Mw
DE /5 m : fisubr Mw
DE /6 m : fidiv Mw
DE /7 m : fidivr Mw
DE /0 r : faddp STi, ST0
DE /1 r : fmulp STi, ST0
DE D9 : fcompp
DE /2 r : fcomp STi
DE /4 r : fsubrp STi, ST0
DE /5 r : fsubp STi, ST0
DE /6 r : fdivrp STi, ST0
DE /7 r : fdivp STi, ST0
DF /0 m : fild Mw
DF /1 m : fisttp Mw
DF /2 m : fist Mw
DF /3 m : fistp Mw
DF /4 m : fbld Mt
DF /5 m : fild Mq
DF /6 m : fbstp Mt
DF /7 m : fistp Mq
DF E0 : fnstsw AX
DF /0 r : ffreep STi
DF /1 r : fxch STi
DF /2 r : fstp STi
DF /3 r : fstp STi
DF /5 r : fucomip ST0, STi
DF /6 r : fcomip ST0, STi
"""
