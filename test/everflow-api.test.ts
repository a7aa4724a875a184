import nock from 'nock'
import { createRequestClient } from '@segment/actions-core'
import { createEverflowApi, createPacer, regionOf } from '../src/everflow-api'

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
    const waits: number[] = []
    const told: Array<[number, number]> = []
    const api = createEverflowApi({
      request: createRequestClient(),
      apiKey: KEY,
      region: 'us',
      retriesOnRateLimit: 2,
      sleep: (ms) => {
        waits.push(ms)
        return Promise.resolve()
      },
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
    const waits: number[] = []
    const pace = createPacer(5, (ms) => {
      waits.push(ms)
      return Promise.resolve()
    })
    await Promise.all([pace(), pace(), pace()])
    expect(waits.length).toBe(2)
    expect(waits[0]).toBeGreaterThan(150)
    expect(waits[0]).toBeLessThanOrEqual(200)
    expect(waits[1]).toBeGreaterThan(350)
    expect(waits[1]).toBeLessThanOrEqual(400)
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
