// The toolkit run in-process: run() with an Io whose output is kept in strings.
import http from 'http'
import type { AddressInfo } from 'net'
import { mkdtempSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import { run } from '../../src/toolkit/main'
import { publicLookup } from '../support/helpers'
import type { Io } from '../../src/toolkit/shared/io'

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export async function toolkit(
  args: string[],
  options: { env?: Record<string, string>; input?: string; io?: Partial<Io>; tty?: boolean } = {}
): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const io: Io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false },
    env: options.env ?? {},
    readStdin: () => options.input ?? '',
    sleep: () => Promise.resolve(),
    lookup: publicLookup,
    ...options.io
  }
  const code = await run(args, io)
  return { code, stdout, stderr }
}

/** examples/settings.json, given explicitly: the environment's settings go over it only then. */
export const EXAMPLE_SETTINGS_FILE = path.join(__dirname, '..', '..', 'examples', 'settings.json')

/** --settings with the example file: the user's choice, so it may send (to nock or a loopback server in tests). */
export const EXAMPLE = ['--settings', EXAMPLE_SETTINGS_FILE]

/** The line every command starts its stderr with when it runs on the example settings. */
export const EXAMPLE_SETTINGS_LINE =
  'settings: apiKey, eventMapping, postbackUrl, verificationToken, apiRegion from examples/settings.json (the example settings)\n'

/** stderr after the "settings:" line that says where the settings came from. */
export const afterSettings = (stderr: string) => stderr.replace(/^settings: .*\n/, '')

export const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((line) => line !== '')

export const jsonLines = (text: string) => lines(text).map((line) => JSON.parse(line))

const dir = mkdtempSync(path.join(tmpdir(), 'everflow-toolkit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
export function file(name: string, content: string): string {
  const target = path.join(dir, name)
  writeFileSync(target, content)
  return target
}

export const event = (id: string, extra: object = {}) =>
  JSON.stringify({
    type: 'track',
    event: 'Order Completed',
    messageId: `m-${id}`,
    timestamp: '2026-01-31T12:00:00Z',
    context: { referrer: { type: 'everflow', id } },
    properties: { total: 10 },
    ...extra
  })

/** A stand-in for a tracking domain on 127.0.0.1: answers each postback as `answer` says, records the URLs. */
export async function trackingServer(
  answer: (url: string) => { status: number; body?: string; delayMs?: number } = () => ({ status: 200 })
) {
  const received: string[] = []
  const server = http.createServer((request, response) => {
    const url = request.url ?? ''
    received.push(url)
    const { status, body, delayMs } = answer(url)
    setTimeout(() => {
      response.writeHead(status)
      response.end(body ?? (status === 200 ? 'OK' : 'error'))
    }, delayMs ?? 0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** A sleep that returns at once and records what it was asked to wait, in milliseconds. */
export function recordingSleep() {
  const waits: number[] = []
  const sleep = (ms: number) => {
    waits.push(ms)
    return Promise.resolve()
  }
  return { waits, sleep }
}
