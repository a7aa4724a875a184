// The preview (npm start with no command), in-process: run() with captured output. --send goes to a server this
// test starts on 127.0.0.1 through the toolkit's test-only origin variable; production settings stay https-only.
import nock from 'nock'
import {
  afterSettings,
  event,
  EXAMPLE,
  EXAMPLE_SETTINGS_FILE,
  EXAMPLE_SETTINGS_LINE,
  file,
  jsonLines,
  toolkit,
  trackingServer
} from './support'

const EXAMPLE_URL =
  'https://www.trkexample.com/?nid=123&transaction_id=0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b&amount=76&order_id=123456789' +
  '&user_ip=23.123.123.123&adv1=adv1test&adv3=adv3test&currency=USD&timestamp=1769860800&verification_token=***'
const ALL_TRACK = ['--subscription', 'type = "track"']

describe('preview', () => {
  it('with no arguments, prints the example payload and the exact postback URL, secrets redacted, no status', async () => {
    const run = await toolkit([])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('line 1 (Order Completed): dry-run\n  payload: {\n')
    expect(run.stdout).toContain('"transaction_id": "0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b"')
    expect(run.stdout).toContain(`would send (dry run; --send sends it): GET ${EXAMPLE_URL}\n`)
    expect(run.stdout).not.toContain('Everflow answered')
    expect(run.stdout + run.stderr).not.toContain('example-token')
    expect(run.stdout + run.stderr).not.toContain('example-api-key')
    expect(run.stderr).toBe(
      `${EXAMPLE_SETTINGS_LINE}summary: would send 1, not subscribed 0, rejected 0, retryable 0\n`
    )
  })

  // A short token used to mask "123" inside nid, order_id and user_ip; the destination now refuses it.
  it('refuses a Verification Token too short to keep apart from event data', async () => {
    const run = await toolkit(['--settings', EXAMPLE_SETTINGS_FILE], { env: { EVERFLOW_VERIFICATION_TOKEN: '123' } })
    expect(run.stderr).toContain('Verification Token is 3 characters long, shorter than any token Everflow generates')
  })

  it("refuses Event Mapping as an object in a settings file (Segment's form holds text) and shows it as text; exit 2", async () => {
    const settings = file(
      'object-mapping.json',
      JSON.stringify({
        apiKey: 'object-mapping-key',
        eventMapping: { 'Order Completed': '0', 'Signed Up': 12 },
        postbackUrl: 'https://www.trkexample.com/?nid=123'
      })
    )
    const run = await toolkit(['--settings', settings])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      `Settings file ${settings}: eventMapping is an object, but Segment's Event Mapping setting is text. ` +
        'Write it as one Event Name=ID per line: "eventMapping": "Order Completed=0\\nSigned Up=12".'
    )
  })

  it('a dry run in JSON has no HTTP status, and no payload unless --details', async () => {
    const [plain] = jsonLines((await toolkit(['--json'])).stdout)
    expect(plain).toEqual({
      line: 1,
      event: 'Order Completed',
      outcome: 'dry-run',
      transactionId: '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b',
      url: EXAMPLE_URL
    })
    const [detailed] = jsonLines((await toolkit(['--json', '--details'])).stdout)
    expect(detailed.payload.order_id).toBe('123456789')
    expect(detailed.status).toBeUndefined()
  })

  describe('--send', () => {
    let server: Awaited<ReturnType<typeof trackingServer>>
    beforeAll(async () => {
      server = await trackingServer((url) =>
        url.includes('transaction_id=fail') ? { status: 503, body: 'busy' } : { status: 200 }
      )
    })
    afterAll(() => server.close())

    it('sends exactly what the dry run shows, and shows the status it got', async () => {
      const events = file('two.ndjson', `${event('aaa111')}\n${event('bbb222', { event: 'Signed Up' })}\n`)
      const dryRun = await toolkit(['--event', events, '--json', ...ALL_TRACK])
      server.received.length = 0
      const sent = await toolkit(['--event', events, '--json', '--send', ...ALL_TRACK], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin }
      })
      expect([dryRun.code, sent.code]).toEqual([0, 0])
      const shown = jsonLines(dryRun.stdout).map((result) => new URL(result.url as string))
      // The dry run redacts the token; the server got the real one, in the same place.
      expect(server.received.map((url) => url.replace('example-token', '***'))).toEqual(
        shown.map((url) => `${url.pathname}${url.search.replace(/%2A%2A%2A/, '***')}`)
      )
      expect(server.received[1]).toContain('adv_event_id=12')
      expect(jsonLines(sent.stdout).map((r) => [r.outcome, r.status])).toEqual([
        ['sent', 200],
        ['sent', 200]
      ])
      expect(afterSettings(sent.stderr)).toBe('summary: sent 2, not subscribed 0, rejected 0, retryable 0\n')
    })

    it('reports a retryable failure, says the CLI did not retry and how to replay, and exits 1', async () => {
      const run = await toolkit(['--event', '-', '--send'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin },
        input: event('fail0001')
      })
      expect(run.code).toBe(1)
      expect(run.stdout).toContain('line 1 (Order Completed): retryable')
      expect(run.stdout).toContain('Everflow answered 503')
      expect(run.stdout).toContain(
        'Segment would retry this; the CLI did not. Replay it by running the same command again: everflow-toolkit --event - --send\n'
      )
      expect(run.stderr).toContain('summary: sent 0, not subscribed 0, rejected 0, retryable 1')
    })

    it('refuses a test origin that is not on this machine', async () => {
      const run = await toolkit(['--send'], { env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: 'http://10.1.2.3:80' } })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('may only name a loopback http origin')
    })

    it('refuses a test origin that is not a URL, saying what to give', async () => {
      const run = await toolkit(['--send'], { env: { EVERFLOW_CLI_TEST_API_ORIGIN: '127.0.0.1:8080' } })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(
        'EVERFLOW_CLI_TEST_API_ORIGIN is not a URL: give a loopback http origin, such as http://127.0.0.1:8080.'
      )
    })
  })

  it('--send resolves the Postback URL host as Segment does and refuses a private address; a dry run looks nothing up', async () => {
    // Past nock to the destination's own connection, where the host is looked up (and refused) before connecting.
    nock.enableNetConnect((host) => host === '127.0.0.1' || host === 'www.trkexample.com:443')
    const asked: string[] = []
    const lookup = (host: string) => {
      asked.push(host)
      return Promise.resolve(['10.1.2.3'])
    }
    const dryRun = await toolkit([], { io: { lookup } })
    expect(dryRun.code).toBe(0)
    expect(asked).toEqual([])
    const sent = await toolkit(['--send', ...EXAMPLE], { io: { lookup } })
    expect(sent.code).toBe(1)
    expect(asked).toEqual(['www.trkexample.com'])
    expect(sent.stdout).toContain(
      'Postback URL host www.trkexample.com resolves to 10.1.2.3, a private or local address'
    )
    nock.enableNetConnect('127.0.0.1')
  })

  it('applies the preset subscription by default: an event Segment would not send shows as not-subscribed', async () => {
    const events = file('subscribed.ndjson', `${event('s1')}\n${event('s2', { event: 'Signed Up' })}\n`)
    const preset = await toolkit(['--event', events])
    expect(preset.code).toBe(0)
    expect(preset.stdout).toContain('line 2 (Signed Up): not-subscribed\n')
    expect(preset.stderr).toContain('summary: would send 1, not subscribed 1, rejected 0, retryable 0')
    const all = await toolkit(['--event', events, ...ALL_TRACK, '--json'])
    expect(jsonLines(all.stdout).map((r) => r.outcome)).toEqual(['dry-run', 'dry-run'])
  })

  it('refuses a --subscription that is not FQL', async () => {
    const run = await toolkit(['--subscription', 'type = "track'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--subscription "type = \\"track" is not a subscription Segment can read.')
  })

  it('reads a body with "event" but no "type" as a track call and says so', async () => {
    const body = JSON.parse(event('notype1'))
    delete body.type
    const run = await toolkit(['--event', '-'], { input: JSON.stringify(body) })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain(
      'line 1 (Order Completed): dry-run\n  note: no "type" given; read as a track call because it has "event"\n'
    )
  })

  it('shows identify and page calls as not subscribed, naming what they miss; a body with no type nor event is refused', async () => {
    const identify = JSON.stringify({ type: 'identify', userId: 'u1', traits: {} })
    const page = JSON.stringify({ type: 'page', name: 'Home' })
    const nothing = JSON.stringify({ userId: 'u1' })
    const run = await toolkit(['--event', '-', '--json'], { input: `${identify}\n${page}\n${nothing}\n` })
    expect(run.code).toBe(1)
    expect(jsonLines(run.stdout).map((r) => [r.outcome, r.error])).toEqual([
      ['not-subscribed', undefined],
      ['not-subscribed', undefined],
      ['rejected', 'an event with no "type" and no "event" is not a Segment call; Track Conversion takes track calls']
    ])
    expect(jsonLines(run.stdout)[0].reason).toMatch(/^matches no preset: preset ".+" \(.+\)/)
    expect(run.stdout).not.toContain('undefined')
  })

  it.each(['EU', 'eu', 'Eu'])('takes EVERFLOW_API_REGION=%s', async (region) => {
    const run = await toolkit(EXAMPLE, { env: { EVERFLOW_API_REGION: region } })
    expect(afterSettings(run.stderr)).toBe('summary: would send 1, not subscribed 0, rejected 0, retryable 0\n')
    expect(run.code).toBe(0)
  })

  it('reports bad NDJSON lines by number, one line per event, and goes on with the others; exits 1', async () => {
    const events = file(
      'mixed.ndjson',
      `${event('ok1')}\nnot json\n[1,2]\n\n${event('ok2', { properties: { total: '$5' } })}\n${event('ok3')}\n${event('id1', { type: 'identify' })}\n`
    )
    const run = await toolkit(['--event', events])
    expect(run.code).toBe(1)
    expect(run.stdout).not.toContain('payload')
    expect(run.stdout).toContain('line 1 (Order Completed): dry-run\n  would send (dry run; --send sends it): GET ')
    expect(run.stdout).toContain('line 2: rejected\n  error: not JSON')
    expect(run.stdout).toContain('line 3: rejected\n  error: not a JSON object')
    expect(run.stdout).toContain('line 5 (Order Completed): rejected')
    expect(run.stdout).toContain('amount "$5" is not a sale amount.')
    expect(run.stdout).toContain('line 6 (Order Completed): dry-run')
    expect(run.stdout).toContain('line 7 (Order Completed): not-subscribed\n  not subscribed: matches no preset')
    expect(run.stderr).toContain('summary: would send 2, not subscribed 1, rejected 3, retryable 0')
    expect(run.stderr).toContain('1 x amount "$5" is not a sale amount.')
    const detailed = await toolkit(['--event', events, '--details'])
    expect(detailed.stdout).toContain('line 1 (Order Completed): dry-run\n  payload: {\n')
  })

  it('--json prints one parseable result per event', async () => {
    const events = file('json.ndjson', `${event('j1')}\n${event('j2', { event: 'Nope' })}\n`)
    const run = await toolkit(['--event', events, '--json', ...ALL_TRACK])
    expect(run.code).toBe(1)
    const results = jsonLines(run.stdout)
    expect(results.map((result) => [result.line, result.outcome])).toEqual([
      [1, 'dry-run'],
      [2, 'rejected']
    ])
    expect(results[1].error).toContain('Event "Nope" is not in the Event Mapping setting')
  })

  it('takes settings from environment variables over a --settings file, a replacement mapping, and says where each came from', async () => {
    const mapping = file(
      'mapping.json',
      JSON.stringify({
        transaction_id: { '@path': '$.context.referrer.id' },
        referrer_type: 'everflow',
        event_name: 'Order Completed',
        adv1: { '@path': '$.userId' }
      })
    )
    const run = await toolkit([...EXAMPLE, '--mapping', mapping, '--json'], {
      env: { EVERFLOW_POSTBACK_URL: 'https://trk.other-network.com/?nid=77', EVERFLOW_VERIFICATION_TOKEN: '' }
    })
    expect(run.code).toBe(0)
    expect(jsonLines(run.stdout)[0].url).toBe(
      'https://trk.other-network.com/?nid=77&transaction_id=0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b&adv1=a1b2c3d4'
    )
    expect(run.stderr).toContain(
      `settings: apiKey, eventMapping, apiRegion from ${EXAMPLE_SETTINGS_FILE}; postbackUrl from EVERFLOW_POSTBACK_URL; verificationToken from EVERFLOW_VERIFICATION_TOKEN\n`
    )
  })

  it('with EVERFLOW_* settings and no --settings, never uses the example file: its token is not sent', async () => {
    const server = await trackingServer()
    try {
      const run = await toolkit(['--send'], {
        env: {
          EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin,
          EVERFLOW_API_KEY: 'real-key-1',
          EVERFLOW_POSTBACK_URL: 'https://trk.real-network.com/?nid=77',
          EVERFLOW_EVENT_MAPPING: 'Order Completed=0'
        }
      })
      expect(run.code).toBe(0)
      expect(server.received).toHaveLength(1)
      expect(server.received[0]).not.toContain('verification_token')
      expect(run.stdout).not.toContain('verification_token')
      expect(run.stderr).toContain(
        'settings: apiKey from EVERFLOW_API_KEY; eventMapping from EVERFLOW_EVENT_MAPPING; postbackUrl from EVERFLOW_POSTBACK_URL (examples/settings.json is not used when EVERFLOW_* variables are set)\n'
      )
    } finally {
      await server.close()
    }
  })

  it('--rate, --verify-wait and --verify-tries without --verify are refused; "preview" is a command word', async () => {
    for (const option of ['--rate', '--verify-wait', '--verify-tries']) {
      const run = await toolkit([option, '1'])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(
        `${option} sets how --send --verify asks Everflow's API; without --verify it would do nothing. Add --send --verify, or leave it out.`
      )
    }
    const run = await toolkit(['preview', '--json'])
    expect(run.code).toBe(0)
    expect(jsonLines(run.stdout)[0].outcome).toBe('dry-run')
  })

  it('a --subscription Segment cannot read says how to write one, not a JavaScript error', async () => {
    for (const fql of ['foo bar', 'type =']) {
      const run = await toolkit(['--subscription', fql])
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(`--subscription ${JSON.stringify(fql)} is not a subscription Segment can read.`)
      expect(run.stderr).not.toContain('Cannot read properties')
    }
  })

  it('Ctrl-C (the abort signal) stops before the next event and exits 130', async () => {
    const stop = new AbortController()
    stop.abort()
    const run = await toolkit(['--event', '-'], {
      input: `${event('c1')}\n${event('c2')}\n`,
      io: { signal: stop.signal }
    })
    expect(run.code).toBe(130)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('Ctrl-C: stopped; 2 event(s) not run.')
  })

  it('a dry run sees Ctrl-C between events, not only after the last', async () => {
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 0)
    const input = Array.from({ length: 2000 }, (_, n) => event(`dry${n}`)).join('\n')
    const run = await toolkit(['--event', '-', '--json'], { input, io: { signal: stop.signal } })
    expect(run.code).toBe(130)
    expect(run.stderr).toMatch(/Ctrl-C: stopped; [1-9]\d* event\(s\) not run\./)
  })

  it.each<[string, string[], Record<string, string>, string]>([
    ['an unknown option', ['--nope'], {}, "Unknown option '--nope'"],
    ['an unknown command', ['sned'], {}, "Unknown command 'sned'"],
    ['a missing event file', ['--event', '/nonexistent/event.json'], {}, 'Cannot read /nonexistent/event.json'],
    [
      'an http Postback URL',
      EXAMPLE,
      { EVERFLOW_POSTBACK_URL: 'http://www.trkexample.com/?nid=1' },
      'Everflow postbacks must use https'
    ],
    [
      'a bad API region',
      ['--settings', EXAMPLE_SETTINGS_FILE],
      { EVERFLOW_API_REGION: 'mars' },
      'Settings: API Region must be one of: "us" or "eu".'
    ],
    ['--verify without --send', ['--verify'], {}, '--verify checks what was sent: use it with --send.']
  ])('exits 2 on %s', async (_name, args, env, message) => {
    const run = await toolkit(args, { env })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stdout).toBe('')
  })
})
