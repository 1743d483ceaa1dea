/**
 * Hugging Face `tokenizer.json` files, run by `@huggingface/tokenizers`
 * (the tokenizer core of transformers.js). Normalizers, pre-tokenizers, the
 * BPE/Unigram/WordPiece models and decoders all come from that library.
 *
 * BOS and EOS are added here, not by the file's post-processor, so that
 * `encode(text, {bos, eos})` means the same for every tokenizer.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { InputError } from '@sculpt/core';
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerIdentity } from './types.js';

type TokenSetting = string | { content?: string } | null | undefined;

interface TokenizerConfigFile {
  bos_token?: TokenSetting;
  eos_token?: TokenSetting;
  pad_token?: TokenSetting;
  unk_token?: TokenSetting;
  [key: string]: unknown;
}

const BOS_CANDIDATES = ['<s>', '<|begin_of_text|>', '<|startoftext|>', '<bos>', '[CLS]'];
const EOS_CANDIDATES = ['</s>', '<|end_of_text|>', '<|endoftext|>', '<eos>', '[SEP]'];
const PAD_CANDIDATES = ['<pad>', '[PAD]', '<|pad|>'];
const UNK_CANDIDATES = ['<unk>', '[UNK]', '<|unk|>'];

export class HuggingFaceTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number;
  readonly identity: TokenizerIdentity;
  private readonly inner: HfTokenizer;
  private readonly specialIds: Set<number>;

  private constructor(inner: HfTokenizer, config: TokenizerConfigFile, path: string, sha256: string) {
    this.inner = inner;
    const vocab = inner.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;

    const idOf = (setting: TokenSetting, candidates: string[]): number | null => {
      const named = typeof setting === 'string' ? setting : setting?.content;
      if (named !== undefined) {
        const id = inner.token_to_id(named);
        if (id === undefined) throw new InputError(`special token ${JSON.stringify(named)} from tokenizer_config.json is not in the vocabulary`, path);
        return id;
      }
      for (const candidate of candidates) {
        const id = inner.token_to_id(candidate);
        if (id !== undefined) return id;
      }
      return null;
    };

    this.bosId = idOf(config.bos_token, BOS_CANDIDATES);
    this.eosId = idOf(config.eos_token, EOS_CANDIDATES);
    // Without a pad token, an unknown-token or EOS id serves: padded positions are masked explicitly.
    this.padId = idOf(config.pad_token, PAD_CANDIDATES) ?? idOf(config.unk_token, UNK_CANDIDATES) ?? this.eosId ?? 0;
    this.specialIds = new Set([this.bosId, this.eosId, this.padId].filter((id): id is number => id !== null));
    this.identity = { kind: 'huggingface', path, sha256, vocabSize: this.vocabSize, bosId: this.bosId, eosId: this.eosId, padId: this.padId };
  }

  /** Reads `tokenizer.json` and, when present beside it, `tokenizer_config.json`. */
  static async fromFile(path: string): Promise<HuggingFaceTokenizer> {
    const absolute = resolve(path);
    let bytes: Buffer;
    try {
      bytes = await readFile(absolute);
    } catch (error) {
      throw new InputError(`cannot read the tokenizer file: ${(error as Error).message}`, absolute, { cause: error });
    }

    const json = parseJson(bytes.toString('utf8'), absolute);
    if (typeof json !== 'object' || json === null || !('model' in json)) {
      throw new InputError('not a Hugging Face tokenizer.json (no "model" entry)', absolute);
    }

    const configPath = join(dirname(absolute), 'tokenizer_config.json');
    let config: TokenizerConfigFile = {};
    try {
      config = parseJson(await readFile(configPath, 'utf8'), configPath) as TokenizerConfigFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }

    let inner: HfTokenizer;
    try {
      inner = new HfTokenizer(json, config);
    } catch (error) {
      throw new InputError(`cannot build the tokenizer: ${(error as Error).message}`, absolute, { cause: error });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return new HuggingFaceTokenizer(inner, config, absolute, sha256);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = this.inner.encode(text, { add_special_tokens: false }).ids;
    const out: number[] = [];
    if ((options.bos ?? true) && this.bosId !== null) out.push(this.bosId);
    for (const id of ids) out.push(id);
    if ((options.eos ?? false) && this.eosId !== null) out.push(this.eosId);
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let list = Array.from(ids);
    if (options.skipSpecialTokens ?? true) list = list.filter((id) => !this.specialIds.has(id));
    return this.inner.decode(list, { skip_special_tokens: options.skipSpecialTokens ?? true });
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`invalid JSON: ${(error as Error).message}`, file, { cause: error });
  }
}
