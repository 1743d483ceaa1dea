/**
 * llama2.c tokenizer files (`tok*.bin`, `tokenizer.bin`) and the encoder of
 * llama2.c's `run.c`: byte-fallback BPE that repeatedly merges the adjacent
 * pair whose concatenation is in the vocabulary with the highest score.
 *
 * File layout (little-endian): int32 max token length, then for each of the
 * vocabSize tokens: float32 merge score, int32 byte length, the token bytes.
 * The file does not store vocabSize; it is the number of entries read.
 *
 * Ids 0, 1 and 2 are `<unk>`, BOS and EOS in every llama2.c vocabulary;
 * byte tokens `<0x00>`..`<0xFF>` sit at ids 3..258.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '@sculpt/core';
import type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerIdentity } from './types.js';

const UNK_ID = 0;
const BOS_ID = 1;
const EOS_ID = 2;
const BYTE_TOKEN_OFFSET = 3;
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** A candidate merge of the symbols at `left` and its right neighbour. */
interface PairCandidate {
  score: number;
  left: number;
  mergedId: number;
  /** Versions of both symbols when the pair was queued; a mismatch marks it stale. */
  leftVersion: number;
  rightVersion: number;
}

export class Llama2cTokenizer implements Tokenizer {
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  readonly padId = UNK_ID;
  readonly vocabSize: number;
  readonly maxTokenLength: number;
  readonly identity: TokenizerIdentity;

  /** Token bytes as latin1 strings, one char per byte, so lookups compare exact bytes. */
  private readonly pieces: string[];
  private readonly scores: Float32Array;
  private readonly idByPiece: Map<string, number>;
  private readonly spaceId: number | undefined;
  /**
   * True when no piece has a space after its first byte. Then no merge can
   * join the symbols on both sides of a space that starts a symbol run, so
   * text can be merged word by word with the same result and better locality.
   */
  private readonly mergesStopAtSpaces: boolean;

  private constructor(pieces: string[], scores: Float32Array, maxTokenLength: number, path: string, sha256: string) {
    this.pieces = pieces;
    this.scores = scores;
    this.vocabSize = pieces.length;
    this.maxTokenLength = maxTokenLength;

    // Like run.c's sorted vocabulary, a duplicated piece resolves to its first id.
    this.idByPiece = new Map();
    for (let id = 0; id < pieces.length; id++) {
      if (!this.idByPiece.has(pieces[id])) this.idByPiece.set(pieces[id], id);
    }
    this.spaceId = this.idByPiece.get(' ');
    this.mergesStopAtSpaces = pieces.every((piece) => piece.indexOf(' ', 1) < 0);
    this.identity = { kind: 'llama2c', path, sha256, vocabSize: pieces.length, bosId: BOS_ID, eosId: EOS_ID, padId: UNK_ID };
  }

  /** Reads a llama2.c tokenizer file. */
  static async fromFile(path: string): Promise<Llama2cTokenizer> {
    const absolute = resolve(path);
    let bytes: Buffer;
    try {
      bytes = await readFile(absolute);
    } catch (error) {
      throw new InputError(`cannot read the llama2.c tokenizer file: ${(error as Error).message}`, absolute, { cause: error });
    }
    return Llama2cTokenizer.fromBytes(bytes, absolute);
  }

  /** Parses the bytes of a llama2.c tokenizer file; `path` is used in errors and the identity. */
  static fromBytes(bytes: Uint8Array, path: string): Llama2cTokenizer {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < 4) throw new InputError('the llama2.c tokenizer file is shorter than its 4-byte header', path);
    const maxTokenLength = view.getInt32(0, true);
    if (maxTokenLength <= 0 || maxTokenLength > 1024) {
      throw new InputError(`invalid max token length ${maxTokenLength} in the header; is this a llama2.c tok*.bin file?`, path);
    }

    const pieces: string[] = [];
    const scores: number[] = [];
    let offset = 4;
    while (offset < bytes.byteLength) {
      if (offset + 8 > bytes.byteLength) {
        throw new InputError(`truncated entry for token ${pieces.length} at byte ${offset}`, path);
      }
      const score = view.getFloat32(offset, true);
      const length = view.getInt32(offset + 4, true);
      offset += 8;
      if (length < 0 || length > maxTokenLength || offset + length > bytes.byteLength) {
        throw new InputError(`invalid byte length ${length} for token ${pieces.length} at byte ${offset - 4} (max token length ${maxTokenLength})`, path);
      }
      pieces.push(Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1'));
      scores.push(score);
      offset += length;
    }
    if (pieces.length < BYTE_TOKEN_OFFSET + 256) {
      throw new InputError(`only ${pieces.length} tokens; a llama2.c vocabulary has at least 259 (<unk>, BOS, EOS and 256 byte tokens)`, path);
    }

    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength, path, sha256);
  }

  /** Returns the raw bytes of a token as a latin1 string. */
  piece(id: number): string {
    return this.pieces[id];
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    if (options.bos ?? true) ids.push(BOS_ID);

    if (text.length > 0) {
      // SentencePiece's dummy prefix: run.c starts non-empty text with the " " token, which
      // then takes part in merges like any other symbol (" O" + "nce" -> " Once").
      const prefixed = this.spaceId !== undefined ? ` ${text}` : text;
      // Each segment starts at a space (except possibly the first), see mergesStopAtSpaces.
      const segments = this.mergesStopAtSpaces ? prefixed.split(/(?= )/) : [prefixed];
      for (const segment of segments) {
        for (const id of this.mergePairs(this.initialSymbols(segment))) ids.push(id);
      }
    }

    if (options.eos ?? false) ids.push(EOS_ID);
    return ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? true;
    const bytes: number[] = [];
    let previous = -1;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`token id ${id} at position ${i} is outside the vocabulary [0, ${this.vocabSize})`);
      }
      if (skipSpecial && (id === BOS_ID || id === EOS_ID || id === UNK_ID)) {
        previous = id;
        continue;
      }

      let piece = this.pieces[id];
      // run.c drops the dummy-prefix space of the first piece after BOS.
      if (previous === BOS_ID && piece.startsWith(' ')) piece = piece.slice(1);
      const byte = BYTE_TOKEN.exec(piece);
      if (byte) {
        bytes.push(Number.parseInt(byte[1], 16));
      } else {
        for (let k = 0; k < piece.length; k++) bytes.push(piece.charCodeAt(k));
      }
      previous = id;
    }
    return Buffer.from(bytes).toString('utf8');
  }

  /** Splits text into one symbol per UTF-8 code point, or its byte tokens when the code point is not in the vocabulary. */
  private initialSymbols(text: string): number[] {
    const symbols: number[] = [];
    const utf8 = Buffer.from(text, 'utf8');
    let start = 0;
    while (start < utf8.length) {
      // A code point is its lead byte plus the following continuation bytes (10xxxxxx), at most 4 bytes.
      let end = start + 1;
      while (end < utf8.length && end - start < 4 && (utf8[end] & 0xc0) === 0x80) end++;

      const id = this.idByPiece.get(utf8.toString('latin1', start, end));
      if (id !== undefined) {
        symbols.push(id);
      } else {
        for (let k = start; k < end; k++) symbols.push(utf8[k] + BYTE_TOKEN_OFFSET);
      }
      start = end;
    }
    return symbols;
  }

  /**
   * Applies merges until none is possible. Each step merges the pair with the
   * highest score and, among equal scores, the leftmost pair, which is the
   * order run.c's quadratic scan produces. A heap with stale-entry checks gives
   * the same result in O(n log n).
   */
  private mergePairs(symbols: number[]): number[] {
    const count = symbols.length;
    if (count < 2) return symbols;

    const tokens = Int32Array.from(symbols);
    const next = new Int32Array(count);
    const prev = new Int32Array(count);
    const version = new Uint32Array(count);
    const alive = new Uint8Array(count).fill(1);
    for (let i = 0; i < count; i++) {
      next[i] = i + 1 < count ? i + 1 : -1;
      prev[i] = i - 1;
    }

    const heap = new PairHeap();
    const pushPair = (left: number): void => {
      const right = next[left];
      if (left < 0 || right < 0) return;
      const mergedId = this.idByPiece.get(this.pieces[tokens[left]] + this.pieces[tokens[right]]);
      if (mergedId === undefined) return;
      heap.push({ score: this.scores[mergedId], left, mergedId, leftVersion: version[left], rightVersion: version[right] });
    };
    for (let i = 0; i + 1 < count; i++) pushPair(i);

    for (let candidate = heap.pop(); candidate !== undefined; candidate = heap.pop()) {
      const left = candidate.left;
      const right = next[left];
      const stale = !alive[left] || right < 0 || version[left] !== candidate.leftVersion || version[right] !== candidate.rightVersion;
      if (stale) continue;

      // Merge right into left; the left slot keeps its position in the sequence.
      tokens[left] = candidate.mergedId;
      version[left]++;
      alive[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;

      pushPair(prev[left]);
      pushPair(left);
    }

    const merged: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) merged.push(tokens[i]);
    return merged;
  }
}

/** Binary max-heap on (score descending, left position ascending). */
class PairHeap {
  private readonly items: PairCandidate[] = [];

  push(item: PairCandidate): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): PairCandidate | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < items.length && before(items[left], items[best])) best = left;
        if (right < items.length && before(items[right], items[best])) best = right;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }
}

function before(a: PairCandidate, b: PairCandidate): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}
