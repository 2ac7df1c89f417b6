// AMD 3DNow! (0F 0F /r ib): the byte after ModRM, SIB and displacement
// selects the operation, so the "opcode" of this map is that suffix byte.

public let amd3DNowSpec = """
0F 0F 0C : pi2fw Pq, Qq
0F 0F 0D : pi2fd Pq, Qq
0F 0F 1C : pf2iw Pq, Qq
0F 0F 1D : pf2id Pq, Qq
0F 0F 8A : pfnacc Pq, Qq
0F 0F 8E : pfpnacc Pq, Qq
0F 0F 90 : pfcmpge Pq, Qq
0F 0F 94 : pfmin Pq, Qq
0F 0F 96 : pfrcp Pq, Qq
0F 0F 97 : pfrsqrt Pq, Qq
0F 0F 9A : pfsub Pq, Qq
0F 0F 9E : pfadd Pq, Qq
0F 0F A0 : pfcmpgt Pq, Qq
0F 0F A4 : pfmax Pq, Qq
0F 0F A6 : pfrcpit1 Pq, Qq
0F 0F A7 : pfrsqit1 Pq, Qq
0F 0F AA : pfsubr Pq, Qq
0F 0F AE : pfacc Pq, Qq
0F 0F B0 : pfcmpeq Pq, Qq
0F 0F B4 : pfmul Pq, Qq
0F 0F B6 : pfrcpit2 Pq, Qq
0F 0F B7 : pmulhrw Pq, Qq
0F 0F BB : pswapd Pq, Qq
0F 0F BF : pavgusb Pq, Qq
"""
