/**
 * ChainCoder's syntax-aware tokenizer: public API.
 *
 * Encoding
 *   encodeProgram(src, opts) → { s1, s2, s3, s4, renames, mode, outline, … }
 *     S3 (layout frame) is the full-field CPython-3.11-shaped dump of the
 *     program cut at every leaf; S4 (accessory) contains the leaves (identifiers,
 *     constants split into pieces, operators) plus the final-chasing token.
 *     S1/S2 come from a pluggable outline strategy (`stride:K`, `ast`, `none`).
 *     `createProgramTokenizer()` gives a synchronous `encode` after one async
 *     grammar load.
 *   opts.mode: 'lossless' (default, exact) or 'compat' (reference tokenizer
 *     behaviour, Python 3.8 strings and its lossy rules).
 *
 * Target and decoding
 *   serializeTarget(segments) → [BOS] S1 [SEP] S2 [SEP] S3 [SEP] S4 [EOS]
 *   parseTarget(tokens) → segments;  decodeProgram(tokens, opts) → { source, tree, dump }
 *   tryDecodeProgram(tokens) → { ok: false, reason, detail } for unusable model output
 *
 * Vocabularies
 *   buildVocabularies(programs, ioSamples, opts) → { input, output }; Vocabulary.save/load (JSON),
 *   encodeIds/decodeIds, unknown tokens map to the unknown id when frozen.
 *
 * I/O examples
 *   ioSampleToObject(stdin, stdout), encodeIoSample(obj, opts), alignIoSamples(samples)
 */
export * from './special-tokens.js';
export * from './modes.js';
export * from './content.js';
export * from './frame.js';
export * from './normalize.js';
export * from './outline.js';
export * from './encode.js';
export * from './target.js';
export * from './decode.js';
export { parseDump, DumpSyntaxError } from './dump-parser.js';
export * from './vocabulary.js';
export * from './iodata.js';
export * from './corpus.js';
export * from './roundtrip.js';
