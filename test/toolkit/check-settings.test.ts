// check-settings runs the destination's own testAuthentication against nock's Everflow API, in-process.
import nock from 'nock'
import { createDestination } from '../../src'
import { EXAMPLE, file, toolkit } from './support'

const US = 'https://api.eflow.team'
const EU = 'https://api-eu.eflow.team'
const KEY = 'example-api-key' // examples/settings.json

afterEach(() => nock.cleanAll())

const api = (origin: string) => nock(origin, { reqheaders: { 'x-eflow-api-key': KEY } })

describe('check-settings', () => {
  it('says what passed when the key is a network key of the Postback URL network; exit 0', async () => {
    api(US).get('/v1/networks').reply(200, { network_id: 123, name: 'Example Network' })
    const run = await toolkit(['check-settings', ...EXAMPLE])
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(
      'ok    settings: Postback URL https://www.trkexample.com/ for network 123, 2 mapped event(s)\n' +
        'ok    Postback URL: www.trkexample.com resolves to a public address\n' +
        "ok    API Key: accepted by Everflow's US API for this network\n" +
        'All settings passed. No postback was sent.\n'
    )
    expect(nock.pendingMocks()).toEqual([])
  })

  it('checks on the EU host with EVERFLOW_API_REGION=EU', async () => {
    api(EU).get('/v1/networks').reply(200, { network_id: 123 })
    const run = await toolkit(['check-settings', ...EXAMPLE], {
      env: { EVERFLOW_API_REGION: 'EU' }
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain("accepted by Everflow's EU API")
  })

  it('says what to fix when the key is of another network; exit 2, key never shown', async () => {
    api(US).get('/v1/networks').reply(200, { network_id: 456 })
    const run = await toolkit(['check-settings', ...EXAMPLE])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain(
      'FAIL  API Key / settings: API Key belongs to Everflow network 456, but the Postback URL (or Network ID) is for network 123.'
    )
    expect(run.stdout + run.stderr).not.toContain(KEY)
  })

  it('fails a broken setting before calling Everflow; exit 2', async () => {
    const run = await toolkit(['check-settings', ...EXAMPLE], {
      env: { EVERFLOW_EVENT_MAPPING: 'Order Completed 0' }
    })
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('FAIL  settings: Event Mapping entry "Order Completed 0" has no "="')
    expect(run.stdout).toContain('fix the setting named above')
  })

  it('says the key was not checked when Everflow is down; exit 1', async () => {
    api(US).get('/v1/networks').reply(503, { error: 'down' })
    const run = await toolkit(['check-settings', ...EXAMPLE])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain("??    API Key: not checked: Everflow's US API could not be reached")
  })

  it('says a refused key is invalid or revoked; exit 2', async () => {
    api(US).get('/v1/networks').reply(401, { error: 'Unauthorized' })
    api(EU).get('/v1/networks').reply(401, { error: 'Unauthorized' })
    const run = await toolkit(['check-settings', ...EXAMPLE])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('API Key was refused by Everflow (401): it is invalid or has been revoked.')
  })

  it('looks the Postback URL host up in DNS also when postbacks are aimed at a local test server', async () => {
    const asked: string[] = []
    const lookup = (host: string) => {
      asked.push(host)
      return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }))
    }
    const run = await toolkit(['check-settings', ...EXAMPLE], {
      env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: 'http://127.0.0.1:9' },
      io: { lookup }
    })
    expect(asked).toEqual(['www.trkexample.com'])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('Postback URL host www.trkexample.com does not exist in DNS (ENOTFOUND).')
  })

  it("warns when the presets' event is not in Event Mapping, with a did-you-mean; the check still passes", async () => {
    api(US).get('/v1/networks').reply(200, { network_id: 123 })
    const run = await toolkit(['check-settings', ...EXAMPLE], {
      env: { EVERFLOW_EVENT_MAPPING: 'Order Compelted=0\nSigned Up=12' }
    })
    expect(run.code).toBe(0)
    const preset = (createDestination().presets ?? [])[0]
    expect(run.stdout).toContain(
      `warn  Event Mapping: "Order Completed" is not mapped, but preset ${JSON.stringify(preset.name)}`
    )
    expect(run.stdout).toContain(
      'every "Order Completed" event would be refused. Did you mean "Order Compelted"? Event names must match exactly. ' +
        'Add the line Order Completed=0 (0 is the base conversion) or Order Completed=<its advertiser event ID>.'
    )
    expect(run.stdout).toContain('All settings passed, with 1 warning(s) above. No postback was sent.')
  })

  it("refuses an object Event Mapping, which Segment's text setting would refuse; exit 2", async () => {
    const settings = file(
      'check-object-mapping.json',
      JSON.stringify({
        apiKey: KEY,
        eventMapping: { 'Order Completed': 0 },
        postbackUrl: 'https://www.trkexample.com/?nid=123'
      })
    )
    const run = await toolkit(['check-settings', '--settings', settings])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain(
      `FAIL  settings: Settings file ${settings}: eventMapping is an object, but Segment's Event Mapping setting is text. ` +
        'Write it as one Event Name=ID per line: "eventMapping": "Order Completed=0".'
    )
  })

  it('labels a Postback URL host that DNS does not know as the Postback URL check, not the API Key; no API call', async () => {
    const notFound = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))
    const run = await toolkit(['check-settings', ...EXAMPLE], { io: { lookup: notFound } })
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('FAIL  Postback URL: ')
    expect(run.stdout).not.toContain('API Key')
    const timeout = () => Promise.reject(Object.assign(new Error('queryA ETIMEOUT'), { code: 'ETIMEOUT' }))
    const later = await toolkit(['check-settings', ...EXAMPLE], { io: { lookup: timeout } })
    expect(later.code).toBe(1)
    expect(later.stdout).toContain('??    Postback URL: not checked: ')
  })
})
