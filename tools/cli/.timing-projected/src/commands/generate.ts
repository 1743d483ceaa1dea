/**
 * `sculpt generate`: text generation from a llama2.c, Hugging Face or ONNX
 * model through core's decoder plugins (greedy or sampling), with a KV cache.
 */
import type { Command } from '@commander-js/extra-typings';
import { InputError, UsageError, type Decoder } from '@sculpt/core';
import type { Tokenizer } from '@sculpt/datasets';
import type { CausalLM } from '@sculpt/runtime-gpu';
import { getContext } from '../context.js';
import { output } from '../output.js';

function integer(name: string, minimum: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < minimum) {
      throw new UsageError(`${name} must be an integer of at least ${minimum}, got "${value}"`);
    }
    return number;
  };
}

function fraction(name: string, minimum: number, maximum: number, exclusiveMinimum = false) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number > maximum || number < minimum || (exclusiveMinimum && number === minimum)) {
      throw new UsageError(`${name} must be a number in ${exclusiveMinimum ? '(' : '['}${minimum}, ${maximum}], got "${value}"`);
    }
    return number;
  };
}

/** Loads a model and its tokenizer and checks that the vocabularies fit each other. */
export async function loadModelWithTokenizer(modelPath: string, tokenizerPath: string | undefined): Promise<{ model: CausalLM; tokenizer: Tokenizer }> {
  const { loadTokenizer, loadTokenizerForModel } = await import('@sculpt/datasets');
  const { loadModel } = await import('@sculpt/runtime-gpu');
  const tokenizer = tokenizerPath === undefined ? await loadTokenizerForModel(modelPath) : await loadTokenizer(tokenizerPath);
  const model = await loadModel(modelPath);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    await model.close();
    throw new InputError(
      `tokenizer ${tokenizer.identity.path} has ${tokenizer.vocabSize} tokens but the model's vocabulary has ${model.config.vocabSize}; pass the tokenizer that belongs to this model with --tokenizer`,
      modelPath,
    );
  }
  return { model, tokenizer };
}

/**
 * Moves a model's blocks to the WebGPU device when it was requested or when
 * `auto` finds a hardware adapter. Otherwise the host path (plain loops plus
 * onnxruntime kernels) stays, because it is faster than the cpu device for models.
 */
export async function applyModelDevice(model: CausalLM, request: 'auto' | 'cpu' | 'webgpu'): Promise<string> {
  if (request === 'cpu') return 'cpu';
  const { getDevice } = await import('@sculpt/runtime-gpu');
  const device = await getDevice(request);
  if (device.kind !== 'webgpu') return 'cpu';
  model.useDevice(device);
  return 'webgpu';
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('generate text from a model (llama2.c .bin, Hugging Face folder or ONNX file)')
    .requiredOption('--model <path>', 'model: llama2.c .bin, Hugging Face folder or ONNX file/folder')
    .option('--tokenizer <path>', 'tokenizer.json or llama2.c tok*.bin (default: found beside the model)')
    .option('--prompt <text>', 'prompt text; BOS is prepended (empty: generate from BOS alone)', '')
    .option('--max-new-tokens <n>', 'maximum number of generated tokens', integer('--max-new-tokens', 1), 256)
    .option('--greedy', 'pick the most likely token at every step (same as --temperature 0)', false)
    .option('--temperature <t>', 'softmax temperature for sampling; 0 means greedy', fraction('--temperature', 0, 100), 1)
    .option('--top-k <k>', 'sample among the k most likely tokens; 0 disables the filter', integer('--top-k', 0), 0)
    .option('--top-p <p>', 'sample among the smallest set of tokens whose probability reaches p; 1 disables it', fraction('--top-p', 0, 1, true), 1)
    .option('--seed <s>', 'seed of the sampling generator', integer('--seed', 0), 0)
    .option('--stop-token <id...>', 'token ids that end generation (default: the tokenizer EOS and BOS)')
    .action(async (options, command) => {
      const context = getContext(command as unknown as Command);
      const { CausalLMDecoder, disposeDevices } = await import('@sculpt/runtime-gpu');
      const { model, tokenizer } = await loadModelWithTokenizer(options.model, options.tokenizer);
      try {
        const device = await applyModelDevice(model, context.globals.device);
        const prompt = tokenizer.encode(options.prompt, { bos: true });
        if (prompt.length === 0) throw new UsageError('the prompt encodes to no tokens and the tokenizer has no BOS; pass a non-empty --prompt');
        if (prompt.length >= model.config.maxSeqLen) {
          throw new UsageError(`the prompt has ${prompt.length} tokens; the model supports ${model.config.maxSeqLen} positions`);
        }
        const stopTokens =
          options.stopToken?.map((value) => integer('--stop-token', 0)(value)) ?? [tokenizer.eosId, tokenizer.bosId].filter((id): id is number => id !== null);
        const maxNewTokens = Math.min(options.maxNewTokens, model.config.maxSeqLen - prompt.length);
        const greedy = options.greedy || options.temperature === 0;

        const name = greedy ? 'greedy' : 'sample';
        const settings = greedy
          ? { maxNewTokens, stopTokens }
          : { maxNewTokens, stopTokens, temperature: options.temperature, topK: options.topK, topP: options.topP, seed: options.seed };
        const decoder = (await context.registry.create('decoder', name, settings, { signal: context.signal })) as Decoder;

        const task = context.progress.start({ label: 'generate', total: maxNewTokens, unit: 'tokens' });
        const started = performance.now();
        const [result] = await decoder.decode(new CausalLMDecoder(model), [prompt], { signal: context.signal, onToken: () => task.increment() });
        task.finish();
        const seconds = (performance.now() - started) / 1000;

        const sequence = result.sequences[0];
        // Decoding prompt and continuation together lets the tokenizer apply its rules at the boundary
        // (llama2.c drops the space of the first piece after BOS), then the prompt's own text is cut off.
        const promptText = tokenizer.decode(prompt);
        const fullText = tokenizer.decode([...prompt, ...sequence.tokens]);
        const text = fullText.startsWith(promptText) ? fullText.slice(promptText.length) : tokenizer.decode(sequence.tokens);
        output(
          {
            model: options.model,
            decoder: name,
            device,
            prompt: options.prompt,
            promptTokens: prompt.length,
            tokens: sequence.tokens,
            text,
            finishReason: sequence.finishReason,
            tokensPerSecond: sequence.tokens.length / Math.max(seconds, 1e-9),
          },
          { json: context.globals.json, human: `${options.prompt}${text}` },
        );
      } finally {
        await model.close();
        await disposeDevices();
      }
    });
}
