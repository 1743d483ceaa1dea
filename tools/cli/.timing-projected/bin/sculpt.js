#!/usr/bin/env node
// Entry point of the `sculpt` binary. It runs the TypeScript sources through
// tsx, so `npx sculpt` works right after `npm install` with no build step.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

// Workspace packages export their TypeScript sources under the
// "@sculpt/source" condition; this resolve hook turns that condition on.
register('../../bin/source-condition.js', import.meta.url);
registerTsx();

const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv);
