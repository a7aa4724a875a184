#!/usr/bin/env node
// The toolkit's command (npm start, or the installed everflow-toolkit): the real process around run().
import { readFileSync } from 'fs'
import { run } from './toolkit/main'

if (require.main === module) {
  const stop = new AbortController()
  // First Ctrl-C: finish what is in flight and report; a second one ends the process at once (exit 1).
  process.once('SIGINT', () => {
    stop.abort()
    process.once('SIGINT', () => process.exit(1))
  })
  run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readStdin: () => readFileSync(0, 'utf8'),
    signal: stop.signal
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`unexpected error: ${(error as Error).stack ?? String(error)}\n`)
      process.exit(2)
    }
  )
}
