// check-settings runs the destination's own testAuthentication against nock's Everflow API, in-process.
import nock from 'nock'
import { toolkit } from './support'

const US = 'https://api.eflow.team'
const EU = 'https://api-eu.eflow.team'
const KEY = 'example-api-key' // examples/settings.json

afterEach(() => nock.cleanAll())

const api = (origin: string) => nock(origin, { reqheaders: { 'x-eflow-api-key': KEY } })

describe('check-settings', () => {
  it('says what passed when the key is a network key of the Postback URL network; exit 0', async () => {
    api(US).get('/v1/networks').reply(200, { network_id: 123, name: 'Example Network' })
    const run = await toolkit(['check-settings'])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'ok    settings: Postback URL https://www.trkexample.com/ for network 123, 2 mapped event(s)\n' +
        "ok    API Key: accepted by Everflow's US API for this network\n" +
        'All settings passed. No postback was sent.\n'
    )
    expect(nock.pendingMocks()).toEqual([])
  })

  it('checks on the EU host with EVERFLOW_API_REGION=EU', async () => {
    api(EU).get('/v1/networks').reply(200, { network_id: 123 })
    const run = await toolkit(['check-settings'], { env: { EVERFLOW_API_REGION: 'EU' } })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("accepted by Everflow's EU API")
  })

  it('says what to fix when the key is of another network; exit 2, key never shown', async () => {
    api(US).get('/v1/networks').reply(200, { network_id: 456 })
    const run = await toolkit(['check-settings'])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain(
      'FAIL  API Key / settings: API Key belongs to Everflow network 456, but the Postback URL (or Network ID) is for network 123.'
    )
    expect(run.stdout + run.stderr).not.toContain(KEY)
  })

  it('fails a broken setting before calling Everflow; exit 2', async () => {
    const run = await toolkit(['check-settings'], { env: { EVERFLOW_EVENT_MAPPING: 'Order Completed 0' } })
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('FAIL  settings: Event Mapping entry "Order Completed 0" has no "="')
    expect(run.stdout).toContain('fix the setting named above')
  })

  it('says the key was not checked when Everflow is down; exit 1', async () => {
    api(US).get('/v1/networks').reply(503, { error: 'down' })
    const run = await toolkit(['check-settings'])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("??    API Key: not checked: Everflow's US API could not be reached")
  })

  it('says a refused key is invalid or revoked; exit 2', async () => {
    api(US).get('/v1/networks').reply(401, { error: 'Unauthorized' })
    api(EU).get('/v1/networks').reply(401, { error: 'Unauthorized' })
    const run = await toolkit(['check-settings'])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('API Key was refused by Everflow (401): it is invalid or has been revoked.')
  })

  it('looks the Postback URL host up in DNS also when postbacks are aimed at a local test server', async () => {
    const asked: string[] = []
    const lookup = (host: string) => {
      asked.push(host)
      return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }))
    }
    const run = await toolkit(['check-settings'], {
      env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: 'http://127.0.0.1:9' },
      io: { lookup }
    })
    expect(asked).toEqual(['www.trkexample.com'])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('Postback URL host www.trkexample.com does not exist in DNS (ENOTFOUND).')
  })
})

