/**
 * A tiny text encoder for tests, as a real ONNX graph (embedding, optional
 * token-type embedding, MatMul, times the attention mask) with a WordPiece
 * tokenizer.json whose template wraps text in [CLS] … [SEP]. The weights are
 * seeded, so every call writes the same bytes.
 */
import { Random } from '@sculpt/core';
import { onnx } from '@sculpt/runtime-gpu';

export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'read', 'two', 'number', '##s', 'print', 'the', 'sum', 'and'];
export const EMBED = 6;
export const HIDDEN = 5;

export function tokenizerJson(): object {
  const special = (id: number) => ({ id, content: VOCAB[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2, 3].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((token, id) => [token, id])) },
  };
}

export function seededValues(count: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: count }, () => random.normal());
}

const embedding = seededValues(VOCAB.length * EMBED, 1);
const typeEmbedding = seededValues(2 * EMBED, 2);
const projection = seededValues(EMBED * HIDDEN, 3);

export interface EncoderGraphOptions {
  inputNames?: [string, string];
  outputName?: string;
  tokenTypes?: boolean;
}

/**
 * hidden = (E[input_ids] + T[token_type_ids]) · W, times the attention mask,
 * so padded positions come out as zeros and a wrong mask is visible.
 */
export function encoderGraph(options: EncoderGraphOptions = {}): Uint8Array {
  const [idsName, maskName] = options.inputNames ?? ['input_ids', 'attention_mask'];
  const graph = new onnx.GraphBuilder('tiny_text_encoder');
  const ids = graph.input(idsName, ['batch', 'tokens'], onnx.OnnxDataType.INT64);
  const mask = graph.input(maskName, ['batch', 'tokens'], onnx.OnnxDataType.INT64);
  const table = graph.constant('embedding', [VOCAB.length, EMBED], embedding);
  const weight = graph.constant('projection', [EMBED, HIDDEN], projection);
  let [embedded] = graph.node('Gather', [table, ids], { axis: 0 });
  if (options.tokenTypes === true) {
    const types = graph.input('token_type_ids', ['batch', 'tokens'], onnx.OnnxDataType.INT64);
    const [typeRows] = graph.node('Gather', [graph.constant('type_embedding', [2, EMBED], typeEmbedding), types], { axis: 0 });
    [embedded] = graph.node('Add', [embedded, typeRows]);
  }
  const [hidden] = graph.node('MatMul', [embedded, weight]);
  const [maskFloat] = graph.node('Cast', [mask], { to: onnx.OnnxDataType.FLOAT });
  graph.node('Einsum', [hidden, maskFloat], { equation: 'bth,bt->bth' }, [options.outputName ?? 'last_hidden_state']);
  graph.output(options.outputName ?? 'last_hidden_state', ['batch', 'tokens', HIDDEN]);
  return graph.build();
}

/** Computes the encoder's hidden state for one token in float64. */
export function expectedState(id: number, tokenType = 0, withTypes = false): Float64Array {
  const out = new Float64Array(HIDDEN);
  for (let h = 0; h < HIDDEN; h++) {
    for (let e = 0; e < EMBED; e++) {
      const input = embedding[id * EMBED + e] + (withTypes ? typeEmbedding[tokenType * EMBED + e] : 0);
      out[h] += input * projection[e * HIDDEN + h];
    }
  }
  return out;
}
