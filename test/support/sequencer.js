// The order jest starts test files in. With no timings from an earlier run (a fresh clone), jest starts the
// largest files first, so the files that spend their time in other processes (npm pack and install, npm run
// check with tsc, the CLI, the exporter) came last and the run ended waiting for them. They start first, then the
// fuzz suite (the longest in-process file), then jest's own order.
const Sequencer = require('@jest/test-sequencer').default

const FIRST = [
  'test/package.test.ts',
  'test/project.test.ts',
  'test/toolkit/e2e.test.ts',
  'test/export-monorepo.test.ts',
  'test/browser/real-browser.test.ts',
  'test/fuzz.test.ts'
]

class SlowFilesFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = FIRST.findIndex((file) => test.path.split('\\').join('/').endsWith(`/${file}`))
      return index === -1 ? FIRST.length : index
    }
    // Array.prototype.sort is stable: files not listed keep jest's order.
    return super.sort(tests).sort((a, b) => rank(a) - rank(b))
  }
}

module.exports = SlowFilesFirst
