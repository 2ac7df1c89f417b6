import X86Decoder
