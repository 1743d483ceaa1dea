import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@sculpt/source'] },
  ssr: { resolve: { conditions: ['@sculpt/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
