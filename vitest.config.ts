import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Files share one Postgres and Redis; running them one at a time keeps each file's
    // notifiers from claiming another file's deliveries. Tests inside a file still own their data.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/herald_test',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    },
  },
});
