// Counts for the hardening summary line that test/support/hardening-reporter.js prints after the run. Each test
// file appends its counts to a file in HARDENING_DIR (made by test/support/global-setup.js). Project-only: the
// monorepo export removes every tally() call with this import.
import { appendFileSync } from 'fs'
import path from 'path'

export type Tally = 'faults' | 'fuzz' | 'ssrf' | 'misclassified' | 'leaks'

export function tally(kind: Tally, count = 1): void {
  const dir = process.env.HARDENING_DIR
  if (dir && count > 0) appendFileSync(path.join(dir, `${process.pid}.ndjson`), `${JSON.stringify({ kind, count })}\n`)
}
