// Mutation testing (`npm run mutate`): how many deliberate small breaks of the destination's source the suite
// notices. Not part of CI: a full run takes about an hour on 2 cores. See docs/mutation-testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
module.exports = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.stryker.config.js',
    // Related-test finding starts from the mutated file's folder, so tests that reach src/trackConversion through
    // src/index.ts were skipped for its mutants. perTest coverage already picks the tests that reach a mutant.
    enableFindRelatedTests: false
  },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // The destination's source: not the toolkit (a separate tool) or the CLI entry, and never generated types.
  mutate: ['src/**/*.ts', '!src/toolkit/**', '!src/cli.ts', '!**/generated-types.ts'],
  ignorePatterns: ['dist', 'coverage', 'reports', '.stryker-tmp'],
  // 2 cores shared with other work.
  concurrency: 2,
  timeoutMS: 10000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null }
}
