// Tallies for the hardening summary line that test/support/hardening-reporter.js prints after the run.
// Each test file appends its counts to a file in HARDENING_DIR (made by test/support/global-setup.js).
import { appendFileSync } from 'fs'
import path from 'path'
import { isRetryable, isRetryableStatus } from '../../src/errors'

export type Tally = 'faults' | 'fuzz' | 'ssrf' | 'misclassified' | 'leaks'

export function tally(kind: Tally, count = 1): void {
  const dir = process.env.HARDENING_DIR
  if (dir) appendFileSync(path.join(dir, `${process.pid}.ndjson`), `${JSON.stringify({ kind, count })}\n`)
}

export type Outcome = 'success' | 'retryable' | 'non-retryable'

// The retry rule is the destination's own (src/errors.ts); the outcome each case must have is written in the tests.

/** How Segment treats an HTTP-like status in a batch result. */
export function outcomeOfStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return 'success'
  return isRetryableStatus(status) ? 'retryable' : 'non-retryable'
}

/** How Segment treats what a single-event call did: resolved, or threw this error. */
export function outcomeOfError(error: unknown): Outcome {
  if (error === undefined) return 'success'
  return isRetryable(error) ? 'retryable' : 'non-retryable'
}

/** Asserts an outcome, counting a mismatch for the summary line before failing the test. */
export function expectOutcome(actual: Outcome, expected: Outcome, what: string): void {
  if (actual !== expected) tally('misclassified')
  expect(`${what}: ${actual}`).toBe(`${what}: ${expected}`)
}

/** Everything a thrown error or a result carries that Segment may log or show, as text. */
export function everythingIn(value: unknown): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, function (_key, field: unknown) {
    if (field instanceof Error) {
      const copy: Record<string, unknown> = { name: field.name, message: field.message, stack: field.stack }
      for (const name of Object.getOwnPropertyNames(field))
        copy[name] = (field as unknown as Record<string, unknown>)[name]
      return copy
    }
    if (field !== null && typeof field === 'object') {
      if (seen.has(field)) return '[seen]'
      seen.add(field)
    }
    return field
  })
}

/** Asserts no secret appears anywhere in value, counting a leak for the summary line before failing. */
export function expectNoLeak(value: unknown, secrets: string[]): void {
  const text = everythingIn(value) + String(value)
  const leaked = secrets.filter((secret) => text.includes(secret))
  if (leaked.length > 0) tally('leaks', leaked.length)
  expect(leaked).toEqual([])
}
