#!/usr/bin/env node
// The toolkit's command (npm start, or the installed everflow-toolkit): the real process around run().
import { readFileSync } from 'fs'
import { run } from './toolkit/main'
import { EXIT, OUTPUT_CLOSED } from './toolkit/shared/io'

/** Under npm start, npm passes on the SIGINT the terminal already sent: one Ctrl-C arrives twice, this close. */
const SAME_CTRL_C_MS = 1000

if (require.main === module) {
  const stop = new AbortController()
  let firstAt = 0
  // First Ctrl-C: finish what is in flight and report; a second one ends the process at once. Both exit 130.
  process.on('SIGINT', () => {
    if (!stop.signal.aborted) {
      firstAt = Date.now()
      stop.abort('SIGINT')
    } else if (Date.now() - firstAt > SAME_CTRL_C_MS) {
      process.exit(EXIT.interrupted)
    }
  })
  // A reader that goes away (| head) closes stdout: stop as on Ctrl-C, quietly, writing nothing more there.
  let closed = false
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    closed = true
    if (error.code !== 'EPIPE') process.stderr.write(`cannot write the output: ${error.code ?? error.message}\n`)
    if (!stop.signal.aborted) stop.abort(OUTPUT_CLOSED)
  })
  process.stderr.on('error', () => undefined)
  run(process.argv.slice(2), {
    stdout: { write: (text: string) => closed || process.stdout.write(text) },
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
