import { describe, expect, it } from 'vitest';
import { fitPrompt } from './model-adapter.js';

describe('fitPrompt', () => {
  it('keeps short prompts whole', () => {
    expect(fitPrompt([1, 5, 6], 4, 1)).toEqual({ tokens: [1, 5, 6], truncated: false });
  });

  it('keeps BOS and the tail', () => {
    expect(fitPrompt([1, 5, 6, 7, 8, 9], 4, 1)).toEqual({ tokens: [1, 7, 8, 9], truncated: true });
  });

  it('cuts without BOS', () => {
    expect(fitPrompt([5, 6, 7, 8, 9], 3, null)).toEqual({ tokens: [7, 8, 9], truncated: true });
  });
});
