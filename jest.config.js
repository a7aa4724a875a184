/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  // Jest's default is one worker less than the cores, which on a 2-core machine means every file in turn; the
  // slow files (fuzz, package, the toolkit's processes) then wait for each other although half of their time is
  // spent in child processes.
  maxWorkers: '100%',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testSequencer: '<rootDir>/test/support/sequencer.js',
  globalSetup: '<rootDir>/test/support/global-setup.js',
  setupFilesAfterEnv: ['<rootDir>/test/support/no-network.ts'],
  reporters: ['default', '<rootDir>/test/support/hardening-reporter.js']
}
