// `npm start` as a user runs it: a child process, its output and exit code. --send goes to a server this test
// starts on 127.0.0.1 through the CLI's test-only origin variable; production settings stay https-only.
import { spawn, spawnSync } from 'child_process'
import http from 'http'
import type { AddressInfo } from 'net'
import { mkdtempSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'

const ROOT = path.join(__dirname, '..')
const CLI = ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'cli.ts')]
const EXAMPLE_URL =
  'https://www.trkexample.com/?nid=123&transaction_id=0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b&amount=76&order_id=123456789' +
  '&user_ip=23.123.123.123&adv1=adv1test&adv3=adv3test&currency=USD&timestamp=1769860800&verification_token=***'
const dir = mkdtempSync(path.join(tmpdir(), 'everflow-cli-'))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI without blocking the event loop, so a server in this process can answer it. */
function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, ...options.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

function file(name: string, content: string): string {
  const target = path.join(dir, name)
  writeFileSync(target, content)
  return target
}

const event = (id: string, extra: object = {}) =>
  JSON.stringify({
    type: 'track',
    event: 'Order Completed',
    messageId: `m-${id}`,
    timestamp: '2026-01-31T12:00:00Z',
    context: { referrer: { type: 'everflow', id } },
    properties: { total: 10 },
    ...extra
  })

describe('npm start', () => {
  it('with no arguments, prints the example payload and the exact postback URL, secrets redacted, sending nothing', () => {
    const run = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, encoding: 'utf8' })
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('line 1 (Order Completed): dry-run')
    expect(run.stdout).toContain('"transaction_id": "0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b"')
    expect(run.stdout).toContain(`would send (dry run; --send sends it): GET ${EXAMPLE_URL}\n`)
    expect(run.stdout).not.toContain('example-token')
    expect(run.stdout + run.stderr).not.toContain('example-api-key')
    expect(run.stderr).toContain('summary: would send 1, rejected 0, retryable 0')
  }, 30_000)

  it('--help explains the options and exits 0', async () => {
    const run = await cli(['--help'])
    expect(run.code).toBe(0)
    for (const option of ['--event', '--settings', '--mapping', '--send', '--json', 'EVERFLOW_API_KEY']) {
      expect(run.stdout).toContain(option)
    }
  }, 30_000)

  describe('--send', () => {
    let server: http.Server
    let origin: string
    const received: string[] = []

    beforeAll(async () => {
      server = http.createServer((request, response) => {
        received.push(request.url ?? '')
        const failing = request.url?.includes('transaction_id=fail')
        response.writeHead(failing ? 503 : 200)
        response.end(failing ? 'busy' : 'OK')
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise((resolve) => server.close(resolve)))

    it('sends exactly what the dry run shows', async () => {
      const events = file('two.ndjson', `${event('aaa111')}\n${event('bbb222', { event: 'Signed Up' })}\n`)
      const dryRun = await cli(['--event', events, '--json'])
      received.length = 0
      const sent = await cli(['--event', events, '--json', '--send'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: origin }
      })
      expect([dryRun.code, sent.code]).toEqual([0, 0])
      const shown = dryRun.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).url as string)
      const token = 'example-token'
      // The dry run redacts the token; the server got the real one, in the same place.
      expect(received.map((url) => url.replace(token, '***'))).toEqual(
        shown.map((url) => {
          const parsed = new URL(url)
          return `${parsed.pathname}${parsed.search.replace(/%2A%2A%2A|\*\*\*/, '***')}`
        })
      )
      expect(received[1]).toContain('adv_event_id=12')
      expect(
        sent.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line).outcome)
      ).toEqual(['sent', 'sent'])
      expect(sent.stderr).toContain('summary: sent 2, rejected 0, retryable 0')
    }, 30_000)

    it('reports a retryable failure and exits 1', async () => {
      const run = await cli(['--event', '-', '--send'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: origin },
        input: event('fail0001')
      })
      expect(run.code).toBe(1)
      expect(run.stdout).toContain('line 1 (Order Completed): retryable')
      expect(run.stdout).toContain('Everflow answered 503')
      expect(run.stderr).toContain('summary: sent 0, rejected 0, retryable 1')
    }, 30_000)

    it('refuses a test origin that is not on this machine', async () => {
      const run = await cli(['--send'], { env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: 'http://10.1.2.3:80' } })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('may only name a loopback http origin')
    }, 30_000)
  })

  it('reports bad NDJSON lines by number and goes on with the others; exits 1', async () => {
    const events = file(
      'mixed.ndjson',
      `${event('ok1')}\nnot json\n[1,2]\n\n${event('ok2', { properties: { total: '$5' } })}\n${event('ok3')}\n${event('id1', { type: 'identify' })}\n`
    )
    const run = await cli(['--event', events])
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('line 1 (Order Completed): dry-run')
    expect(run.stdout).toContain('line 2: rejected\n  error: not JSON')
    expect(run.stdout).toContain('line 3: rejected\n  error: not a JSON object')
    expect(run.stdout).toContain('line 5 (Order Completed): rejected')
    expect(run.stdout).toContain('amount "$5" is not a sale amount.')
    expect(run.stdout).toContain('line 6 (Order Completed): dry-run')
    expect(run.stdout).toContain(
      'line 7 (Order Completed): rejected\n  error: a "identify" call is not a track event; Track Conversion takes track events only'
    )
    expect(run.stderr).toContain('progress: 6/6 events, 4 failed')
    expect(run.stderr).toContain('summary: would send 2, rejected 4, retryable 0')
    expect(run.stderr).toContain('1 x amount "…" is not a sale amount.')
  }, 30_000)

  it('--json prints one parseable result per event', async () => {
    const events = file('json.ndjson', `${event('j1')}\n${event('j2', { event: 'Nope' })}\n`)
    const run = await cli(['--event', events, '--json'])
    expect(run.code).toBe(1)
    const results = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(results.map((result) => [result.line, result.outcome])).toEqual([
      [1, 'dry-run'],
      [2, 'rejected']
    ])
    expect(results[1].error).toContain('Event "Nope" is not in the Event Mapping setting')
  }, 30_000)

  it('takes settings from environment variables over the file, and a replacement mapping', async () => {
    const mapping = file(
      'mapping.json',
      JSON.stringify({
        transaction_id: { '@path': '$.context.referrer.id' },
        referrer_type: 'everflow',
        event_name: 'Order Completed',
        adv1: { '@path': '$.userId' }
      })
    )
    const run = await cli(['--mapping', mapping, '--json'], {
      env: { EVERFLOW_POSTBACK_URL: 'https://trk.other-network.com/?nid=77', EVERFLOW_VERIFICATION_TOKEN: '' }
    })
    expect(run.code).toBe(0)
    const [result] = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(result.url).toBe(
      'https://trk.other-network.com/?nid=77&transaction_id=0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b&adv1=a1b2c3d4'
    )
  }, 30_000)

  it.each<[string, string[], Record<string, string>, string]>([
    ['an unknown option', ['--nope'], {}, "Unknown option '--nope'"],
    ['a missing event file', ['--event', '/nonexistent/event.json'], {}, 'Cannot read /nonexistent/event.json'],
    [
      'an http Postback URL',
      [],
      { EVERFLOW_POSTBACK_URL: 'http://www.trkexample.com/?nid=1' },
      'Everflow postbacks must use https'
    ],
    ['a bad API region', [], { EVERFLOW_API_REGION: 'mars' }, 'Settings: API Region must be one of: "us" or "eu".']
  ])(
    'exits 2 on %s',
    async (_name, args, env, message) => {
      const run = await cli(args, { env })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain(message)
      expect(run.stdout).toBe('')
    },
    30_000
  )
})
