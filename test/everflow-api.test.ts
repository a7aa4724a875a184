import nock from 'nock'
import { createRequestClient } from '@segment/actions-core'
import { createEverflowApi, createPacer, regionOf, sleep } from '../src/everflow-api'

const KEY = 'api-key-SECRET'
afterEach(() => nock.cleanAll())

describe('Everflow API client', () => {
  it('sends the key in X-Eflow-API-Key only, to the host of the region', async () => {
    const urls: string[] = []
    nock('https://api-eu.eflow.team', { reqheaders: { 'x-eflow-api-key': KEY } })
      .get('/v1/networks')
      .reply(function (uri) {
        urls.push(uri)
        return [200, { network_id: 5 }]
      })
    const api = createEverflowApi({ request: createRequestClient(), apiKey: KEY, region: 'eu' })
    expect(await api.get('/networks')).toEqual({ kind: 'ok', status: 200, body: { network_id: 5 } })
    expect(urls).toEqual(['/v1/networks'])
  })

  it.each<[number, object]>([
    [401, { kind: 'unauthorized' }],
    [403, { kind: 'forbidden' }],
    [404, { kind: 'unexpected', status: 404 }],
    [500, { kind: 'unreachable', reason: 'HTTP 500' }],
    [429, { kind: 'rate-limited', retryAfterMs: undefined }]
  ])('classifies %i', async (status, answer) => {
    nock('https://api.eflow.team').get('/v1/x').reply(status, { error: 'no' })
    const api = createEverflowApi({ request: createRequestClient(), apiKey: KEY, region: 'us' })
    expect(await api.get('/x')).toEqual(answer)
  })

  it('waits out 429s, honouring Retry-After, else backing off 2^(retry-1) s; says so each time; gives up after the retries', async () => {
    nock('https://api.eflow.team')
      .get('/v1/x')
      .reply(429, { error: 'Too many requests' }, { 'Retry-After': '7' })
      .get('/v1/x')
      .reply(429, {})
      .get('/v1/x')
      .reply(429, {})
    const { waits, wait } = recordedWaits()
    const told: Array<[number, number]> = []
    const api = createEverflowApi({
      request: createRequestClient(),
      apiKey: KEY,
      region: 'us',
      retriesOnRateLimit: 2,
      sleep: wait,
      onRateLimited: (ms, retry) => told.push([ms, retry])
    })
    expect(await api.get('/x')).toEqual({ kind: 'rate-limited', retryAfterMs: undefined })
    expect(waits).toEqual([7000, 2000])
    expect(told).toEqual([
      [7000, 1],
      [2000, 2]
    ])
    expect(nock.pendingMocks()).toEqual([])
  })

  it.each(['POST', 'PUT', 'PATCH'] as const)(
    '%s sends its body as JSON, the key in its header only',
    async (method) => {
      const seen: Array<[string, unknown, string]> = []
      nock('https://api.eflow.team', { reqheaders: { 'x-eflow-api-key': KEY } })
        .intercept('/v1/x', method)
        .reply(function (uri, body) {
          seen.push([uri, body, String(this.req.headers['content-type'])])
          return [200, { result: true }]
        })
      const api = createEverflowApi({ request: createRequestClient(), apiKey: KEY, region: 'us' })
      expect(await api.send(method, '/x', { a: [1] })).toEqual({ kind: 'ok', status: 200, body: { result: true } })
      expect(seen).toEqual([['/v1/x', { a: [1] }, 'application/json']])
    }
  )

  it('returns a 429 at once when it asks for a longer wait than maxWaitMs, and waits out a shorter one', async () => {
    nock('https://api.eflow.team')
      .get('/v1/x')
      .reply(429, {}, { 'Retry-After': '2' })
      .get('/v1/x')
      .reply(429, {}, { 'Retry-After': '6' })
    const { waits, wait } = recordedWaits()
    const api = createEverflowApi({
      request: createRequestClient(),
      apiKey: KEY,
      region: 'us',
      retriesOnRateLimit: 3,
      maxWaitMs: 5000,
      sleep: wait
    })
    expect(await api.get('/x')).toEqual({ kind: 'rate-limited', retryAfterMs: 6000 })
    expect(waits).toEqual([2000])
    expect(nock.pendingMocks()).toEqual([])
  })

  it('returns the answer after a 429 that was waited out', async () => {
    nock('https://api.eflow.team').get('/v1/x').reply(429, {}).get('/v1/x').reply(200, { ok: 1 })
    const api = createEverflowApi({
      request: createRequestClient(),
      apiKey: KEY,
      region: 'us',
      retriesOnRateLimit: 3,
      sleep: () => Promise.resolve()
    })
    expect(await api.get('/x')).toEqual({ kind: 'ok', status: 200, body: { ok: 1 } })
  })

  it('spaces calls to the rate it is given', async () => {
    const { waits, wait } = recordedWaits()
    const pace = createPacer(5, wait)
    await Promise.all([pace(), pace(), pace()])
    expect(waits.length).toBe(2)
    expect(waits[0]).toBeGreaterThan(150)
    expect(waits[0]).toBeLessThanOrEqual(200)
    expect(waits[1]).toBeGreaterThan(350)
    expect(waits[1]).toBeLessThanOrEqual(400)
  })

  it.each<[string, number]>([
    ['7', 7000],
    ['12', 12_000],
    ['1.25', 1250],
    ['1.5', 1500],
    ['0', 0],
    // Unreadable: the usual backoff of 1 s for a first retry.
    ['5x', 1000],
    ['x5', 1000],
    ['5 seconds', 1000],
    ['Thu, 01 Jan 2015 00:00:00 GMT', 0]
  ])('reads Retry-After %j as a wait of %i ms', async (retryAfter, waitMs) => {
    expect(await waitsAfter429(retryAfter)).toEqual([waitMs])
  })

  it('reads a Retry-After date as the time until then', async () => {
    const [waitMs] = await waitsAfter429(new Date(Date.now() + 60_000).toUTCString())
    // The header has whole seconds, and time passes while the request is answered (more on a loaded machine).
    expect(waitMs).toBeGreaterThan(50_000)
    expect(waitMs).toBeLessThanOrEqual(60_000)
  })

  it.each([300, 302, 304])('classifies %i as unexpected, not followed', async (status) => {
    nock('https://api.eflow.team').get('/v1/x').reply(status, {}, { Location: 'https://api.eflow.team/v1/y' })
    const api = createEverflowApi({ request: createRequestClient(), apiKey: KEY, region: 'us' })
    expect(await api.get('/x')).toEqual({ kind: 'unexpected', status })
  })

  it('says "network error" when the request fails with an error that has neither code nor name', async () => {
    const api = createEverflowApi({
      request: () => Promise.reject(Object.assign(new Error('no'), { name: undefined })),
      apiKey: KEY,
      region: 'us'
    })
    expect(await api.get('/x')).toEqual({ kind: 'unreachable', reason: 'network error' })
  })

  it.each([undefined, 0])('does not space calls without a rate (%p)', async (perSecond) => {
    const { waits, wait } = recordedWaits()
    const pace = createPacer(perSecond, wait)
    await Promise.all([expect(pace()).resolves.toBeUndefined(), expect(pace()).resolves.toBeUndefined()])
    expect(waits).toEqual([])
  })

  it('sleeps for the time it is given', async () => {
    const started = Date.now()
    await sleep(30)
    // Node may fire a timer up to a millisecond early.
    expect(Date.now() - started).toBeGreaterThanOrEqual(29)
  })

  it.each([
    ['EU', 'eu'],
    ['eu', 'eu'],
    [' Eu ', 'eu'],
    ['us', 'us'],
    [undefined, 'us']
  ])('reads API Region %p as %p', (value, region) => {
    expect(regionOf(value)).toBe(region)
  })
})

/** The waits the client makes after one 429 carrying this Retry-After, before its retry is answered 200. */
async function waitsAfter429(retryAfter: string): Promise<number[]> {
  nock('https://api.eflow.team').get('/v1/x').reply(429, {}, { 'Retry-After': retryAfter }).get('/v1/x').reply(200, {})
  const { waits, wait } = recordedWaits()
  const api = createEverflowApi({
    request: createRequestClient(),
    apiKey: KEY,
    region: 'us',
    retriesOnRateLimit: 1,
    sleep: wait
  })
  expect((await api.get('/x')).kind).toBe('ok')
  return waits
}

/** A sleep that returns at once and records how long it was asked to wait. */
function recordedWaits() {
  const waits: number[] = []
  const wait = (ms: number): Promise<void> => {
    waits.push(ms)
    return Promise.resolve()
  }
  return { waits, wait }
}
