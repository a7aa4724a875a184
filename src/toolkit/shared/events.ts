// Reading events: one JSON event, an array, a Segment HTTP API batch body, or NDJSON, each line judged on its own;
// and reading a JSON file of the user's (settings, a mapping).
import { readFileSync } from 'fs'
import type { JSONObject, SegmentEvent } from '@segment/actions-core'
import { UsageError } from './io'
import type { Io } from './io'

export function readText(io: Io, file: string): string {
  try {
    return file === '-' ? io.readStdin() : readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`Cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}`)
  }
}

export function readJsonObject(io: Io, file: string, what: string): JSONObject {
  let value: unknown
  try {
    value = JSON.parse(readText(io, file))
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${what} file ${file} is not JSON: ${(error as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${what} file ${file} must hold one JSON object.`)
  }
  return value as JSONObject
}

/** One input line: an event, or why it is not one (kept with its text so nothing is lost). */
export interface Input {
  /** Where it is in the file read: the line of NDJSON, or the position in a JSON array or batch body. */
  line: number
  /** The line it had in the file it first came from, when it is replayed from a failed file. */
  origin?: number
  event?: SegmentEvent
  error?: string
  text?: string
}

/** One line of NDJSON (or one element of an array) as an input. */
function inputOf(line: number, value: unknown, text: string): Input {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { line, error: 'not a JSON object: each line must hold one event object', text }
  }
  const failure = (value as { everflowFailure?: { line?: unknown; text?: unknown } }).everflowFailure
  // A failed-file record of a line that was not an event: read its original text again, as it was.
  if (Object.keys(value).length === 1 && failure && typeof failure.text === 'string') {
    const origin = typeof failure.line === 'number' ? failure.line : undefined
    return { ...inputOfText(line, failure.text), ...(origin !== undefined ? { origin } : {}) }
  }
  return { line, event: value as SegmentEvent }
}

function inputOfText(line: number, text: string): Input {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { line, error: `not JSON: ${(error as Error).message}`, text }
  }
  return inputOf(line, value, text)
}

/**
 * The events of a file: one JSON event, a JSON array of events, a Segment HTTP API batch body
 * ({"batch": [...]}), or NDJSON (one event per line, each line judged on its own).
 */
export function readEvents(io: Io, file: string): Input[] {
  const text = readText(io, file)
  let whole: unknown
  try {
    whole = JSON.parse(text)
  } catch {
    whole = undefined // Not one JSON document: read it as NDJSON.
  }
  const batch = (whole as { batch?: unknown } | undefined)?.batch
  const list = Array.isArray(whole)
    ? whole
    : Array.isArray(batch) && (whole as { type?: unknown }).type === undefined
      ? batch
      : undefined
  if (list) return list.map((value, index) => inputOf(index + 1, value, JSON.stringify(value) ?? String(value)))
  if (whole !== undefined) return [inputOf(1, whole, text.trim())]
  const inputs: Input[] = []
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() !== '') inputs.push(inputOfText(index + 1, content))
  })
  return inputs
}

/**
 * The event as Segment would route it: a body without `type` but with `event` (as Segment's HTTP API takes it) is a
 * track call, and `note` says so. A body with neither is no Segment call at all (`notEvent`).
 */
export function asTrack(event: SegmentEvent): { event: SegmentEvent; note?: string; notEvent?: string } {
  const type = (event as { type?: unknown }).type
  if (type === undefined && typeof event.event === 'string') {
    return { event: { ...event, type: 'track' }, note: 'no "type" given; read as a track call because it has "event"' }
  }
  if (type === undefined) {
    return {
      event,
      notEvent: 'an event with no "type" and no "event" is not a Segment call; Track Conversion takes track calls'
    }
  }
  return { event }
}
