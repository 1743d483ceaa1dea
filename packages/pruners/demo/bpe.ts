/**
 * A small byte-pair-encoding trainer that writes a llama2.c tokenizer file:
 * <unk>, BOS, EOS, the 256 byte tokens `<0x00>`..`<0xFF>`, the printable
 * ASCII characters, then the learned merges with descending scores (run.c
 * merges the pair with the highest score first).
 */
import { writeFile } from 'node:fs/promises';

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).concat(['\n']);

/** Learns `vocabSize − 355` merges from `text`, splitting words before spaces as run.c does. */
export function trainBpe(text: string, vocabSize: number): string[] {
  const words = new Map<string, number>();
  for (const word of (' ' + text).split(/(?= )/)) words.set(word, (words.get(word) ?? 0) + 1);
  let segmented = [...words].map(([word, count]) => ({ pieces: [...word], count }));

  const merges: string[] = [];
  const target = vocabSize - 3 - 256 - PRINTABLE.length;
  const known = new Set(PRINTABLE);
  while (merges.length < target) {
    const pairs = new Map<string, number>();
    for (const { pieces, count } of segmented) {
      for (let i = 0; i + 1 < pieces.length; i++) {
        const pair = `${pieces[i]}\u0000${pieces[i + 1]}`;
        pairs.set(pair, (pairs.get(pair) ?? 0) + count);
      }
    }
    let best = '';
    let bestCount = 1;
    for (const [pair, count] of pairs) {
      if (count > bestCount && !known.has(pair.replace('\u0000', ''))) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === '') break;
    const [left, right] = best.split('\u0000');
    const merged = left + right;
    merges.push(merged);
    known.add(merged);
    segmented = segmented.map(({ pieces, count }) => {
      const next: string[] = [];
      for (let i = 0; i < pieces.length; i++) {
        if (i + 1 < pieces.length && pieces[i] === left && pieces[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(pieces[i]);
      }
      return { pieces: next, count };
    });
  }
  return merges;
}

/** Writes the llama2.c tokenizer file: int32 max token length, then per token f32 score, int32 length, bytes. */
export async function writeLlama2cTokenizer(file: string, merges: readonly string[]): Promise<number> {
  const pieces: { text: Buffer; score: number }[] = [
    { text: Buffer.from('<unk>'), score: 0 },
    { text: Buffer.from('\n<s>\n'), score: 0 },
    { text: Buffer.from('\n</s>\n'), score: 0 },
  ];
  for (let byte = 0; byte < 256; byte++) pieces.push({ text: Buffer.from(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`), score: 0 });
  for (const character of PRINTABLE) pieces.push({ text: Buffer.from(character), score: -1e6 });
  merges.forEach((merge, rank) => pieces.push({ text: Buffer.from(merge), score: -rank }));

  const maxLength = Math.max(...pieces.map((piece) => piece.text.length));
  const parts: Buffer[] = [Buffer.from(Int32Array.from([maxLength]).buffer)];
  for (const piece of pieces) {
    parts.push(Buffer.from(Float32Array.from([piece.score]).buffer), Buffer.from(Int32Array.from([piece.text.length]).buffer), piece.text);
  }
  await writeFile(file, Buffer.concat(parts));
  return pieces.length;
}
