// How outcomes read: failure reasons grouped for a summary, a missing field blamed on a --mapping file that leaves it
// out, and what a retryable failure says.
import { commandLine } from './command-line'
import type { Io } from './io'
import type { ActiveSubscription } from './subscriptions'

/** Where a value stood in a grouped reason. */
const PLACE = '\u0000'
const VALUE = /"(?:[^"\\]|\\.)*"|\b[0-9a-f]{16,}\b/gi

/**
 * Failure reasons for a summary: the first sentence of each message, grouped with the values of single events
 * left out, so equal reasons count together. A value that every event of a group shares (the "google" of
 * `referrer_type is "google", not everflow` when every event says google) is shown; the others become "…".
 */
export class Reasons {
  private readonly groups = new Map<string, { times: number; values: string[] }>()

  add(message: string): void {
    const values: string[] = []
    const key = message
      .split(/(?<=\.)\s/)[0]
      .split(': ')[0]
      .replace(VALUE, (value) => {
        values.push(value)
        return PLACE
      })
    const group = this.groups.get(key)
    if (!group) this.groups.set(key, { times: 1, values })
    else {
      group.times++
      group.values = group.values.map((value, index) =>
        value === values[index] ? value : value.startsWith('"') ? '"…"' : '…'
      )
    }
  }

  /** One line per reason, the most frequent first: `  3 x amount "…" is not a sale amount.` */
  lines(): string[] {
    return [...this.groups]
      .sort((a, b) => b[1].times - a[1].times)
      .map(([key, { times, values }]) => {
        const text = key
          .split(PLACE)
          .map((part, index) => (index === 0 ? part : `${values[index - 1]}${part}`))
          .join('')
        return `  ${times} x ${text}`
      })
  }
}

/**
 * A message that says a field is missing, when a --mapping file does not map that field: the mapping is to blame,
 * not the event, and the message says so.
 */
export function blameMapping(message: string, subscription: ActiveSubscription | undefined): string {
  const field = /^(\w+) is missing\b/.exec(message)?.[1]
  if (!field || !subscription?.mappingFile || field in subscription.mapping || !(field in subscription.defaults)) {
    return message
  }
  return (
    `${field} is missing because --mapping ${subscription.mappingFile} does not map it ` +
    `(the default mapping takes it from ${JSON.stringify(subscription.defaults[field])}). ` +
    'Add it to the mapping file, or leave --mapping out to use the default mapping.'
  )
}

/** The line a retryable failure gets in the CLI, which (unlike Segment) does not retry: how to run it again. */
export function notRetried(io: Io): string {
  return `Segment would retry this; the CLI did not. Replay it by running the same command again: ${commandLine(io)}`
}
