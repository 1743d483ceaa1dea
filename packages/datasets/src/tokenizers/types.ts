/**
 * The tokenizer contract shared by every package. Two implementations exist:
 * llama2.c `tok*.bin` files (`Llama2cTokenizer`) and Hugging Face
 * `tokenizer.json` files (`HuggingFaceTokenizer`); `loadTokenizer` picks one
 * by file type.
 */

export interface EncodeOptions {
  /** Prepend the beginning-of-sequence token. Default true, as LLaMA tokenizers do on every call. */
  bos?: boolean;
  /** Append the end-of-sequence token. Default false. */
  eos?: boolean;
}

export interface DecodeOptions {
  /** Drop BOS, EOS and pad ids from the output text. Default true. */
  skipSpecialTokens?: boolean;
}

/** Tokenizer identity recorded in run manifests, tying a calibration set to the exact vocabulary. */
export interface TokenizerIdentity {
  kind: 'llama2c' | 'huggingface';
  /** Absolute path of the file the vocabulary was read from. */
  path: string;
  /** Hex SHA-256 of that file's bytes. */
  sha256: string;
  vocabSize: number;
  bosId: number | null;
  eosId: number | null;
  padId: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  /** Beginning-of-sequence id, or null when the vocabulary has none. */
  readonly bosId: number | null;
  /** End-of-sequence id, or null when the vocabulary has none. */
  readonly eosId: number | null;
  /**
   * Default pad id: the vocabulary's own pad token when it has one, otherwise
   * an existing id that never carries meaning in calibration (`<unk>`), because
   * padded positions are masked by the sample builder's explicit mask.
   */
  readonly padId: number;
  readonly identity: TokenizerIdentity;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
}
