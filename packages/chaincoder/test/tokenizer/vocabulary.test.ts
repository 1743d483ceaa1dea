import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeProgram } from '../../src/tokenizer/encode.js';
import { encodeIoSample, ioSampleToObject } from '../../src/tokenizer/iodata.js';
import { SPECIAL_TOKENS } from '../../src/tokenizer/special-tokens.js';
import { Vocabulary, buildVocabularies, vocabularyKey } from '../../src/tokenizer/vocabulary.js';

const dir = mkdtempSync(join(tmpdir(), 'sculpt-vocab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROGRAMS = ['x = int(input())\nprint(x * 2)\n', 'y = int(input())\nprint(y + 1.25)\n', 'import math\nprint(math.sqrt(2))\n'];

describe('vocabularies', () => {
  it('builds input and output id spaces with a syntax count cut', async () => {
    const programs = await Promise.all(PROGRAMS.map((source) => encodeProgram(source)));
    const io = [encodeIoSample(ioSampleToObject('3', 'YES'))];
    const { input, output, report } = buildVocabularies(programs, io, { mode: 'lossless', minSyntaxCount: 2 });
    // The first frame token is shared by the two input() programs; the math program's is seen once.
    expect(output.has(programs[0].s3[0])).toBe(true);
    expect(output.has(programs[2].s3[0])).toBe(false);
    expect(input.has(io[0].s3[0])).toBe(true);
    expect(output.has(io[0].s3[0])).toBe(false);
    expect(input.has(programs[0].s3[0])).toBe(false);
    expect(report.keptSyntaxTokens).toBeLessThan(report.distinctSyntaxTokens);
    expect(report.syntaxOccurrenceCoverage).toBeGreaterThan(0);
    expect(report.syntaxOccurrenceCoverage).toBeLessThan(1);
    expect(report.programsFullyCovered).toBeLessThan(3);
    expect(output.outline).toBe('ast:32');
    expect(output.covers([...programs[0].s3, ...programs[0].s4])).toBe(true);
    expect(output.covers(programs[2].s3)).toBe(false);
  });

  it('maps unseen tokens to the unknown id', () => {
    const vocabulary = new Vocabulary('output', 'lossless', [...Object.values(SPECIAL_TOKENS), "'x'"]);
    expect(vocabulary.id("'never seen'")).toBe(vocabulary.unknownId);
    expect(vocabulary.decodeIds(vocabulary.encodeIds(["'x'"]))).toEqual(["'x'"]);
    expect(() => vocabulary.decodeIds([999])).toThrow(/outside the output vocabulary/);
  });

  it('lossless keys keep True, 1 and 1.0 apart', () => {
    const vocabulary = new Vocabulary('output', 'lossless', [...Object.values(SPECIAL_TOKENS), 'True', '1', '1.0']);
    expect(new Set([vocabulary.id('True'), vocabulary.id('1'), vocabulary.id('1.0')]).size).toBe(3);
  });

  it('compat keys collide like Python dict keys', () => {
    expect(vocabularyKey('True', 'compat')).toBe('1');
    expect(vocabularyKey('1.0', 'compat')).toBe('1');
    expect(vocabularyKey('False', 'compat')).toBe('0');
    expect(vocabularyKey('0.0', 'compat')).toBe('0');
    const vocabulary = new Vocabulary('output', 'compat', [...Object.values(SPECIAL_TOKENS), '1', 'True', '1.0', '0']);
    expect(vocabulary.id('True')).toBe(vocabulary.id('1'));
    expect(vocabulary.id('1.0')).toBe(vocabulary.id('1'));
    expect(vocabulary.id('False')).toBe(vocabulary.id('0'));
    expect(vocabulary.decodeIds([vocabulary.id('True')])).toEqual(['1']);
  });

  it('saves and loads JSON', async () => {
    const programs = await Promise.all(PROGRAMS.map((source) => encodeProgram(source)));
    const { output } = buildVocabularies(programs, [], { mode: 'lossless' });
    const path = join(dir, 'vocab.json');
    await output.save(path);
    const loaded = await Vocabulary.load(path);
    expect(loaded.tokens).toEqual(output.tokens);
    expect(loaded.kind).toBe('output');
    expect(loaded.id(programs[1].s3[1])).toBe(output.id(programs[1].s3[1]));
  });

  it('rejects malformed vocabulary files', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"format": "other"}');
    await expect(Vocabulary.load(path)).rejects.toThrow(/bad\.json.*not a ChainCoder vocabulary/);
    writeFileSync(path, 'not json');
    await expect(Vocabulary.load(path)).rejects.toThrow(/not valid JSON/);
    await expect(Vocabulary.load(join(dir, 'missing.json'))).rejects.toThrow(/cannot read vocabulary/);
  });
});
