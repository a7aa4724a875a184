/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Type-checking is done once by `tsc --noEmit` in `npm test`; here it would only repeat it per file.
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] }
}
