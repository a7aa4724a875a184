// Assertions shared by the fault, secret and settings tests: the outcome Segment gives a case, and that no secret
// appears anywhere in what an error or result carries.
import { isRetryable, isRetryableStatus } from '../../src/errors'
import { tally } from './tally'

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

/** Asserts an outcome (a mismatch is counted before the test fails). */
export function expectOutcome(actual: Outcome, expected: Outcome, what: string): void {
  tally('misclassified', actual === expected ? 0 : 1)
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

/** Asserts no secret appears anywhere in value (a leak is counted before the test fails). */
export function expectNoLeak(value: unknown, secrets: string[]): void {
  const text = everythingIn(value) + String(value)
  const leaked = secrets.filter((secret) => text.includes(secret))
  tally('leaks', leaked.length)
  expect(leaked).toEqual([])
}
