/**
 * Special token strings, spelled as in the reference ChainCoder vocabulary so
 * that token dumps are comparable with it.
 */
export const SPECIAL_TOKENS = {
  bos: '<<||bos_token||>>',
  eos: '<<||eos_token||>>',
  /** Decoder padding and input padding across a batch (syntax channel). */
  pad: '<<||cross_instance_pad_syn_token||>>',
  /** Input padding across a batch (content channel). */
  padContent: '<<||cross_instance_pad_cont_token||>>',
  /** Pads inserted when aligning the lines of I/O samples. */
  ioPadSyntax: '<<||input_cross_sample_pad_syn_token||>>',
  ioPadContent: '<<||input_cross_sample_pad_cont_token||>>',
  /** Syntax placeholder paired with the 2nd and later pieces of a split string, number or float. */
  onHold: '<<||syntax_on_hold_for_content_token||>>',
  /** Content paired with the last layout-frame token, so S3 and S4 have equal length. */
  finalChasing: '<<||content_final_chasing_syntax_token||>>',
  /** Separator between the S1, S2, S3 and S4 segments of the decoder target. */
  separator: '<<||SPECIAL_RESERVED_TOKEN_POSSIBLY_NEVER_USED_0||>>',
  /** Any token missing from a frozen vocabulary. */
  unknown: '<<||SPECIAL_RESERVED_TOKEN_POSSIBLY_NEVER_USED_7||>>',
  /** Content of a type the I/O tokenizer cannot represent. */
  unknownType: '<<||unknown_type_token||>>',
} as const;

export const SPECIAL_TOKEN_LIST: readonly string[] = Object.values(SPECIAL_TOKENS);

const SPECIAL_SET: ReadonlySet<string> = new Set(SPECIAL_TOKEN_LIST);

export function isSpecialToken(token: string): boolean {
  return SPECIAL_SET.has(token);
}
