/** @type {import('jest').Config} */

// ESM throughout (got is ESM-only): tests run under `node --experimental-vm-modules` (see the
// `test` script) and TypeScript is transformed by swc, which strips types and keeps `import`.
const config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/{packages,services}/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  // A guard against a hung test, not a measure of speed: waits for a condition carry their own
  // deadlines, which name what they waited for. The CPU-bound parser tests (3,000-20,000 events)
  // take 45 s where a quiet machine takes 10 s when other work shares the two cores.
  testTimeout: 120_000,
  // Each file has its own database and queue prefix; two workers fit the two cores.
  maxWorkers: 2,
};

export default config;
