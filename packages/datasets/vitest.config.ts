import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@sculpt/source'] },
  ssr: { resolve: { conditions: ['@sculpt/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // No test may reach the real Hugging Face hub; the hub tests pass a loopback endpoint explicitly.
    env: { HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9', SCULPT_DATA_DIR: '' },
  },
});
