// Faults against a real HTTP server on 127.0.0.1 (real sockets, not nock), driven through the framework as
// Segment drives it. The test-only Transport aims postbacks at the server; settings stay https-only.
import http from 'http'
import type { AddressInfo } from 'net'
import { Destination } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import { createDestination } from '../src'
import { orderCompleted, SECRET_API_KEY, SECRET_TOKEN, settingsWithSecrets, subscriptionTo } from './support/helpers'
import { expectNoLeak, expectOutcome, outcomeOfError, outcomeOfStatus } from './support/hardening'
import { tally } from './support/tally'
import type { Outcome } from './support/hardening'

// Short enough to keep the cases that wait for it quick; the others keep the framework's default, so a busy
// machine cannot turn their answers into timeouts.
const TIMEOUT_MS = 500
const BATCH_TIMEOUT_MS = 3000
const WAITS_FOR_TIMEOUT = new Set(['slower-than-timeout', 'reset-mid-response', 'never-answers', 'half-written'])
const API_KEY = SECRET_API_KEY
const TOKEN = SECRET_TOKEN
const secrets = [API_KEY, TOKEN]
const settings = settingsWithSecrets

type Behaviour = (request: http.IncomingMessage, response: http.ServerResponse) => void

const status =
  (code: number, body = '', headers: Record<string, string> = {}): Behaviour =>
  (_request, response) => {
    response.writeHead(code, headers)
    response.end(body)
  }

/** What the server does, chosen by the transaction_id of the postback, and how Segment must treat it. */
const cases: Record<string, [Behaviour, Outcome]> = {
  ok: [status(200, 'OK'), 'success'],
  'slower-than-timeout': [
    (_q, response) => setTimeout(() => response.end('late'), BATCH_TIMEOUT_MS * 2).unref(),
    'retryable'
  ],
  'reset-mid-response': [
    (_q, response) => {
      response.writeHead(200, { 'content-length': '100' })
      response.write('partial')
      setTimeout(() => response.socket?.destroy(), 20)
    },
    'retryable'
  ],
  'never-answers': [() => undefined, 'retryable'],
  'half-written': [
    (_q, response) => {
      response.writeHead(200, { 'content-length': '100' })
      response.end('only ten b')
      // Content-Length promised 100 bytes; closing now leaves the body half-written.
      response.socket?.end()
    },
    'retryable'
  ],
  500: [status(500, 'Internal Server Error'), 'retryable'],
  502: [status(502, 'Bad Gateway'), 'retryable'],
  503: [status(503, 'Service Unavailable'), 'retryable'],
  '503-retry-after': [status(503, 'busy', { 'retry-after': '120' }), 'retryable'],
  429: [status(429, 'slow down', { 'retry-after': '1' }), 'retryable'],
  408: [status(408, 'Request Timeout'), 'retryable'],
  400: [status(400, 'Bad Request'), 'non-retryable'],
  401: [status(401, 'Unauthorized'), 'non-retryable'],
  403: [status(403, 'Forbidden'), 'non-retryable'],
  404: [status(404, 'Not Found'), 'non-retryable'],
  204: [status(204), 'non-retryable'],
  'html-error-page': [
    status(200, '<html><body><h1>Error</h1></body></html>', { 'content-type': 'text/html; charset=utf-8' }),
    'non-retryable'
  ],
  'json-error': [
    status(200, JSON.stringify({ error: 'invalid transaction' }), { 'content-type': 'application/json' }),
    'non-retryable'
  ],
  'redirect-to-https-elsewhere': [status(301, '', { location: 'https://elsewhere.example/?x=1' }), 'non-retryable'],
  'redirect-to-http': [status(302, '', { location: 'http://www.trkexample.com/?x=1' }), 'non-retryable']
}

let server: http.Server
let origin: string
const requestsSeen: string[] = []

beforeAll(async () => {
  server = http.createServer((request, response) => {
    const caseName = new URL(request.url ?? '/', 'http://x').searchParams.get('transaction_id') ?? ''
    requestsSeen.push(caseName)
    const [behaviour] = cases[caseName] ?? [status(418, 'unknown case')]
    behaviour(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function destinationAt(postbackOrigin: string, timeout?: number) {
  const definition = createDestination({ postbackOrigin, timeout })
  const destination = new Destination(definition)
  const options = {
    ...settings,
    subscription: subscriptionTo(definition, 'type = "track"')
  }
  return { destination, options }
}

function conversion(caseName: string): SegmentEvent {
  return orderCompleted({
    messageId: `message-${caseName}`,
    context: { referrer: { type: 'everflow', id: caseName }, ip: '23.123.123.123' } as SegmentEvent['context']
  })
}

async function sendOne(postbackOrigin: string, caseName: string): Promise<unknown> {
  const { destination, options } = destinationAt(
    postbackOrigin,
    WAITS_FOR_TIMEOUT.has(caseName) ? TIMEOUT_MS : undefined
  )
  try {
    await destination.onEvent(conversion(caseName), options)
    return undefined
  } catch (error) {
    return error
  }
}

describe('single events against a real server', () => {
  it.each(Object.entries(cases))('%s', async (caseName, [, expected]) => {
    requestsSeen.length = 0
    const error = await sendOne(origin, caseName)
    tally('faults')
    expectOutcome(outcomeOfError(error), expected, caseName)
    expectNoLeak(error, secrets)
    // Exactly one postback reached the server: redirects are not followed, nothing is sent twice.
    expect(requestsSeen).toEqual([caseName])
  })

  it('connection refused is retryable', async () => {
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const error = await sendOne(`http://127.0.0.1:${port}`, 'ok')
    tally('faults')
    expectOutcome(outcomeOfError(error), 'retryable', 'connection refused')
    expect((error as Error).message).toContain('(ECONNREFUSED)')
    expectNoLeak(error, secrets)
  })

  it('names the failure so a user can act on it', async () => {
    const messages = await Promise.all(
      ['html-error-page', 'redirect-to-http', '204', 'never-answers'].map(
        async (caseName) => ((await sendOne(origin, caseName)) as Error).message
      )
    )
    expect(messages[0]).toContain('answered 200 with a web page')
    expect(messages[1]).toContain('Everflow answered 302 with a redirect to http://www.trkexample.com/?x=1')
    expect(messages[2]).toContain('Everflow answered 204 No Content')
    expect(messages[3]).toContain('Got no complete answer from Everflow at www.trkexample.com')
  })
})

describe('a mixed batch against a real server', () => {
  it('gives every event its own outcome, in order', async () => {
    requestsSeen.length = 0
    const names = Object.keys(cases)
    const { destination, options } = destinationAt(origin, BATCH_TIMEOUT_MS)
    const [result] = await destination.onBatch(names.map(conversion), options)
    const multistatus = (result as { multistatus: Array<{ status: number }> }).multistatus
    expect(multistatus).toHaveLength(names.length)
    names.forEach((caseName, index) => {
      tally('faults')
      expectOutcome(outcomeOfStatus(multistatus[index].status), cases[caseName][1], `batch ${caseName}`)
    })
    expectNoLeak(result, [API_KEY])
    // The token is in the URLs the server received, but never in what the batch reports.
    expect(JSON.stringify(multistatus)).not.toContain(TOKEN)
    expect([...requestsSeen].sort()).toEqual([...names].sort())
  })
})
