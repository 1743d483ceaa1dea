/**
 * Built-in plugins of this package, listed by name with lazy loaders so the
 * registry can list them without importing their code.
 */
import type { LazyPluginEntry } from '@sculpt/core';

export const plugins: LazyPluginEntry[] = [
  { kind: 'dataset', name: 'c4', description: 'C4 English web text, random windows', load: () => import('./plugins/pretraining.js').then((m) => m.c4Plugin) },
  { kind: 'dataset', name: 'pile', description: 'The Pile (uncopyrighted), random windows', load: () => import('./plugins/pretraining.js').then((m) => m.pilePlugin) },
  { kind: 'dataset', name: 'oscar', description: 'OSCAR English, random windows', load: () => import('./plugins/pretraining.js').then((m) => m.oscarPlugin) },
  { kind: 'dataset', name: 'redpajama', description: 'RedPajama-Data-V2 sample (raw_content), random windows', load: () => import('./plugins/pretraining.js').then((m) => m.redpajamaPlugin) },
  { kind: 'dataset', name: 'wikitext2', description: 'WikiText-2 raw, joined and windowed', load: () => import('./plugins/pretraining.js').then((m) => m.wikitext2Plugin) },
  { kind: 'dataset', name: 'tinystories', description: 'TinyStories V2, random windows', load: () => import('./plugins/pretraining.js').then((m) => m.tinystoriesPlugin) },
  { kind: 'dataset', name: 'gsm8k', description: 'GSM8K math word problems', load: () => import('./plugins/downstream.js').then((m) => m.gsm8kPlugin) },
  { kind: 'dataset', name: 'svamp', description: 'SVAMP math word problems', load: () => import('./plugins/downstream.js').then((m) => m.svampPlugin) },
  { kind: 'dataset', name: 'mawps', description: 'MAWPS math word problems', load: () => import('./plugins/downstream.js').then((m) => m.mawpsPlugin) },
  { kind: 'dataset', name: 'anli_r1', description: 'Adversarial NLI round 1', load: () => import('./plugins/downstream.js').then((m) => m.anliR1Plugin) },
  { kind: 'dataset', name: 'anli_r2', description: 'Adversarial NLI round 2', load: () => import('./plugins/downstream.js').then((m) => m.anliR2Plugin) },
  { kind: 'dataset', name: 'anli_r3', description: 'Adversarial NLI round 3', load: () => import('./plugins/downstream.js').then((m) => m.anliR3Plugin) },
  { kind: 'dataset', name: 'esnli', description: 'e-SNLI with explanations', load: () => import('./plugins/downstream.js').then((m) => m.esnliPlugin) },
  { kind: 'dataset', name: 'commonsense_qa', description: 'CommonsenseQA multiple choice', load: () => import('./plugins/downstream.js').then((m) => m.commonsenseQaPlugin) },
  { kind: 'dataset', name: 'race', description: 'RACE reading comprehension', load: () => import('./plugins/downstream.js').then((m) => m.racePlugin) },
  { kind: 'dataset', name: 'winogrande', description: 'WinoGrande two-option fill-in', load: () => import('./plugins/downstream.js').then((m) => m.winograndePlugin) },
  { kind: 'dataset', name: 'ellipses', description: 'Control: repeated "."', load: () => import('./plugins/controls.js').then((m) => m.ellipsesPlugin) },
  { kind: 'dataset', name: 'random', description: 'Control: seeded random characters', load: () => import('./plugins/controls.js').then((m) => m.randomPlugin) },
  { kind: 'dataset', name: 'custom', description: 'A local file with a field mapping and a template', load: () => import('./plugins/controls.js').then((m) => m.customPlugin) },
  { kind: 'dataset', name: 'apps', description: 'APPS programming problems (per-problem folders)', load: () => import('./code/plugins.js').then((m) => m.appsPlugin) },
  { kind: 'dataset', name: 'code-contests', description: 'CodeContests problems (Hugging Face rows or CodeT prompts)', load: () => import('./code/plugins.js').then((m) => m.codeContestsPlugin) },
  { kind: 'dataset', name: 'mbpp', description: 'MBPP function problems as stdin tests (needs a Python runner)', load: () => import('./code/plugins.js').then((m) => m.mbppPlugin) },
  { kind: 'dataset', name: 'humaneval', description: 'HumanEval function problems as stdin tests (needs a Python runner)', load: () => import('./code/plugins.js').then((m) => m.humanEvalPlugin) },
  { kind: 'dataset', name: 'generated-stdin', description: 'Seeded small stdin problems with reference solutions', load: () => import('./code/plugins.js').then((m) => m.generatedProblemsPlugin) },
];
