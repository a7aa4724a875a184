// The jest setup Stryker runs for every mutant: the normal one, minus the tests that no mutant can make fail.
const base = require('./jest.config')

// The fuzz properties draw fewer inputs per mutant; the named cases in the other files carry the rules.
process.env.FUZZ_RUNS = process.env.FUZZ_RUNS ?? '200'

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    // Builds dist/ with tsc, packs and installs it, and runs it in a new process: the mutant is not active there.
    '<rootDir>/test/package.test.ts',
    // Tests the exporter script (no destination code runs), in child processes.
    '<rootDir>/test/export-monorepo.test.ts',
    // Runs npm run check (generated files, validate, tsc) in a child process, where the mutant is not active.
    '<rootDir>/test/project.test.ts',
    // The toolkit is not the destination; its tests time request rates and in-flight counts, which fail under
    // the load of instrumented runs, and e2e runs the CLI in child processes where the mutant is not active.
    '<rootDir>/test/toolkit/',
    // Runs the plugin inside Chromium from a bundle esbuild makes of the source (coverage cannot see it there), and
    // would launch a browser for every mutant; the jsdom tests of the plugin run for its mutants instead.
    '<rootDir>/test/browser/real-browser.test.ts'
  ],
  // The hardening summary is for the normal run; Stryker reports its own way. Without the global setup's folder
  // (which the summary's reporter removes) the tallies are not written, and no folder is left per mutant.
  globalSetup: undefined,
  reporters: ['default']
}
