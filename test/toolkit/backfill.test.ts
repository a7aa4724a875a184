// backfill, in-process, against a tracking-domain stand-in on 127.0.0.1 (the toolkit's test-only origin).
import { readFileSync } from 'fs'
import { MAX_POSTBACKS_IN_FLIGHT } from '../../src/trackConversion'
import { createDestination } from '../../src'
import {
  afterSettings,
  event,
  EXAMPLE_SETTINGS_LINE,
  file,
  lines,
  recordingSleep,
  toolkit,
  trackingServer
} from './support'

type Server = Awaited<ReturnType<typeof trackingServer>>
const idOf = (url: string) => new URL(url, 'http://x').searchParams.get('transaction_id') ?? ''

/** Answers by transaction id: rej* 400, busy* 503, everything else 200. */
const mixed = (url: string) => {
  const id = idOf(url)
  if (id.startsWith('rej')) return { status: 400, body: '{"error":"bad offer"}' }
  if (id.startsWith('busy')) return { status: 503, body: 'busy' }
  return { status: 200 }
}

// Track Conversion's presets: refunds are not backfilled.
const NO_PRESET = `matches no preset: ${(createDestination().presets ?? [])
  .filter((preset) => preset.partnerAction === 'trackConversion')
  .flatMap((preset) => ('subscribe' in preset ? [`preset ${JSON.stringify(preset.name)} (${preset.subscribe})`] : []))
  .join('; ')}. Segment sends it to no action; not a failure`

describe('backfill', () => {
  let server: Server
  let env: Record<string, string>
  beforeEach(async () => {
    server = await trackingServer(mixed)
    env = { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin }
  })
  afterEach(() => server.close())

  it('sends every line, writes failures with reasons to --failed, and accounts for every line', async () => {
    const input = [
      event('ok1'),
      event('rej1'),
      'not json',
      event('busy1'),
      event('ok2', { event: 'Signed Up' }),
      event('ok3', { properties: { total: '$5' } }),
      event('ok4')
    ].join('\n')
    const failed = file('mixed-failed.ndjson', 'stale content from an earlier run\n')
    const run = await toolkit(['backfill', '--event', '-', '--send', '--failed', failed], { env, input })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    // Sent: ok1, ok4 (Signed Up is not in the preset's subscription); the postback of $5 is never built.
    expect(server.received.map(idOf).sort()).toEqual(['busy1', 'ok1', 'ok4', 'rej1'])
    expect(lines(afterSettings(run.stderr))[0]).toBe(
      'backfill summary: 7 lines: sent 2, failed 4 (1 retryable), not subscribed 1, not started 0'
    )
    expect(run.stderr).toContain('Segment would retry the retryable ones; the CLI did not: replay them as below.')
    expect(run.stderr).toContain(
      `failed and not-started events are in ${failed}; replay them with: everflow-toolkit backfill --send --event ${failed} --failed ${failed.replace(/\.ndjson$/, '-replay.ndjson')}\n`
    )
    const records = lines(readFileSync(failed, 'utf8')).map((line) => JSON.parse(line))
    expect(records.map((r) => [r.everflowFailure.line, r.everflowFailure.retryable]).sort()).toEqual([
      [2, false],
      [3, false],
      [4, true],
      [6, false]
    ])
    const byLine = Object.fromEntries(records.map((r) => [r.everflowFailure.line, r]))
    expect(byLine[2].everflowFailure.reason).toContain('Everflow answered 400')
    expect(byLine[2].context.referrer.id).toBe('rej1')
    expect(byLine[3].everflowFailure).toMatchObject({ reason: expect.stringContaining('not JSON'), text: 'not json' })
    expect(byLine[4].everflowFailure.reason).toContain('Everflow answered 503')
    expect(byLine[6].everflowFailure.reason).toContain('amount "$5" is not a sale amount')
  })

  it('the failed file replays as it is: fixed answers make the replay succeed', async () => {
    const failed = file('replay-failed.ndjson', '')
    const input = [event('busyA'), event('busyB'), event('ok5')].join('\n')
    const first = await toolkit(['backfill', '--event', '-', '--send', '--failed', failed], { env, input })
    expect(first.code).toBe(1)
    expect(lines(readFileSync(failed, 'utf8'))).toHaveLength(2)

    // Everflow is back: the same file, unchanged, goes through.
    await server.close()
    server = await trackingServer()
    const replayFailed = file('replay-failed-2.ndjson', '')
    const replay = await toolkit(['backfill', '--event', failed, '--send', '--failed', replayFailed], {
      env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin }
    })
    expect(replay.code).toBe(0)
    expect(replay.stderr).toBe(
      `${EXAMPLE_SETTINGS_LINE}backfill summary: 2 lines: sent 2, failed 0, not subscribed 0, not started 0\n`
    )
    expect(server.received.map(idOf).sort()).toEqual(['busyA', 'busyB'])
    expect(readFileSync(replayFailed, 'utf8')).toBe('')
  })

  it('a replayed line that fails again carries its new reason, once, and the line it had in the first file', async () => {
    const failed = file('again-failed.ndjson', '')
    const input = JSON.stringify({ ...JSON.parse(event('rej9')), everflowFailure: { line: 7, reason: 'old' } })
    const run = await toolkit(['backfill', '--event', '-', '--send', '--failed', failed], { env, input })
    expect(run.code).toBe(1)
    const [record] = lines(readFileSync(failed, 'utf8')).map((line) => JSON.parse(line))
    expect(record.everflowFailure).toEqual({
      line: 7,
      reason: expect.stringContaining('Everflow answered 400'),
      retryable: false
    })
  })

  it('counts events the subscription leaves out as not subscribed, sending none', async () => {
    const input = [event('n1', { event: 'Signed Up' }), event('n2', { event: 'Signed Up' })].join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--send'], { env, input })
    expect(run.code).toBe(0)
    expect(server.received).toEqual([])
    expect(lines(afterSettings(run.stderr))[0]).toBe(
      'backfill summary: 2 lines: sent 0, failed 0, not subscribed 2, not started 0'
    )
    const all = await toolkit(['backfill', '--event', '-', '--send', '--subscription', 'type = "track"'], {
      env,
      input
    })
    expect(all.code).toBe(0)
    expect(server.received.map(idOf).sort()).toEqual(['n1', 'n2'])
  })

  it('refuses a --subscription that is not FQL; exit 2', async () => {
    const run = await toolkit(['backfill', '--event', '-', '--subscription', 'type = "track'], {
      env,
      input: event('f1')
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      '--subscription "type = \\"track" is not a subscription Segment can read. Write FQL conditions joined by and/or'
    )
  })

  it('keeps at most the batch path bound of postbacks in flight', async () => {
    await server.close()
    let inFlight = 0
    let most = 0
    // Answers take 200 ms: long enough that all 16 are surely started before the first ends, even on a loaded
    // machine (with 20 ms, a slow start now and then saw only 15 at once).
    server = await trackingServer(() => {
      inFlight++
      most = Math.max(most, inFlight)
      setTimeout(() => inFlight--, 200)
      return { status: 200, delayMs: 200 }
    })
    const input = Array.from({ length: 100 }, (_, n) => event(`c${n}`)).join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--send'], {
      env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin },
      input
    })
    expect(run.code).toBe(0)
    expect(server.received).toHaveLength(100)
    expect(most).toBe(MAX_POSTBACKS_IN_FLIGHT)
  })

  it('--rate spaces the starts: waits are asked for between postbacks', async () => {
    const { waits, sleep } = recordingSleep()
    const input = Array.from({ length: 5 }, (_, n) => event(`r${n}`)).join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--send', '--rate', '10'], {
      env,
      input,
      io: { sleep }
    })
    expect(run.code).toBe(0)
    // Five starts at 10/s: four waits, the last about 400 ms out.
    expect(waits).toHaveLength(4)
    expect(Math.max(...waits)).toBeGreaterThan(350)
  })

  it('Ctrl-C (the abort signal) stops new postbacks, lets those in flight finish and counts the rest as not started', async () => {
    await server.close()
    const stop = new AbortController()
    server = await trackingServer(() => {
      // The signal comes while the first postbacks are on the wire.
      stop.abort()
      return { status: 200, delayMs: 30 }
    })
    const failed = file('abort-failed.ndjson', '')
    const input = Array.from({ length: 200 }, (_, n) => event(`a${n}`)).join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--send', '--failed', failed], {
      env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin },
      input,
      io: { signal: stop.signal }
    })
    expect(run.code).toBe(130)
    expect(run.stderr).toContain('Ctrl-C: starting no new postbacks; waiting for those in flight...')
    const sent = server.received.length
    expect(sent).toBeGreaterThan(0)
    expect(sent).toBeLessThanOrEqual(MAX_POSTBACKS_IN_FLIGHT)
    expect(run.stderr).toContain(
      `backfill summary: 200 lines: sent ${sent}, failed 0, not subscribed 0, not started ${200 - sent} (stopped: Ctrl-C)`
    )
    expect(lines(readFileSync(failed, 'utf8'))).toHaveLength(200 - sent)
  })

  it('a dry run sees Ctrl-C too: it comes between events, not only after the last', async () => {
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 0)
    const input = Array.from({ length: 4000 }, (_, n) => event(`dry${n}`)).join('\n')
    const run = await toolkit(['backfill', '--event', '-'], { env, input, io: { signal: stop.signal } })
    expect(run.code).toBe(130)
    expect(run.stderr).toMatch(/not started [1-9]\d* \(stopped: Ctrl-C\)/)
  })

  it('prints a summary line every few seconds when stderr is not a terminal, never a line per event', async () => {
    await server.close()
    server = await trackingServer(() => ({ status: 200, delayMs: 5 }))
    const input = Array.from({ length: 300 }, (_, n) => event(`p${n}`)).join('\n')
    const started = Date.now()
    const run = await toolkit(['backfill', '--event', '-', '--send', '--every', '0.05'], {
      env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin },
      input
    })
    const elapsedMs = Date.now() - started
    expect(run.code).toBe(0)
    const progress = lines(run.stderr).filter((line) => line.startsWith('backfill: '))
    expect(progress.length).toBeGreaterThan(0)
    // One line per 50 ms interval at most, however long a loaded machine takes: never a line per event.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 50) + 1)
    expect(progress.length).toBeLessThan(300)
    expect(progress[0]).toMatch(/^backfill: \d+\/300 lines done \(sent \d+, failed 0\), \d+\/s(, about \d+ s left)?$/)
    expect(lines(afterSettings(run.stderr)).at(-1)).toBe(
      'backfill summary: 300 lines: sent 300, failed 0, not subscribed 0, not started 0'
    )
  })

  it('draws a progress bar (cli-progress) on a terminal, with count, rate and time left', async () => {
    const input = Array.from({ length: 20 }, (_, n) => event(`t${n}`)).join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--send'], { env, input, tty: true })
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(/backfill [█░]+ 20\/20 lines \| \d+\/s \| \S+ left \| failed 0/)
    expect(run.stderr).not.toContain('backfill: ')
  })

  it('without --send, a dry run of the whole file sends nothing', async () => {
    const input = [event('d1'), event('d2', { properties: { total: 'ten' } })].join('\n')
    const run = await toolkit(['backfill', '--event', '-'], { env, input })
    expect(run.code).toBe(1)
    expect(server.received).toEqual([])
    expect(lines(afterSettings(run.stderr))[0]).toBe(
      'backfill summary: 2 lines: would send 1, failed 1, not subscribed 0, not started 0'
    )
  })

  it('counts identify and page calls as not subscribed, not failed, and names the presets they miss', async () => {
    const identify = JSON.stringify({ type: 'identify', userId: 'u1', messageId: 'i1' })
    const page = JSON.stringify({ type: 'page', name: 'Home', messageId: 'p1' })
    const input = [identify, page, event('n3', { event: 'Signed Up' })].join('\n')
    const failed = file('identify-failed.ndjson', '')
    const run = await toolkit(['backfill', '--event', '-', '--send', '--failed', failed], { env, input })
    expect(run.code).toBe(0)
    expect(server.received).toEqual([])
    expect(readFileSync(failed, 'utf8')).toBe('')
    const summary = lines(afterSettings(run.stderr))
    expect(summary[0]).toBe('backfill summary: 3 lines: sent 0, failed 0, not subscribed 3, not started 0')
    expect(summary).toContain(`  3 not subscribed: ${NO_PRESET}`)
  })

  it('an identify call that matches --subscription is refused with what to change, in words ("an identify call")', async () => {
    const identify = JSON.stringify({ type: 'identify', userId: 'u1', messageId: 'i2' })
    const input = [identify, event('n4')].join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--send', '--subscription', 'type = "identify"'], {
      env,
      input
    })
    expect(run.code).toBe(1)
    expect(lines(afterSettings(run.stderr))).toEqual([
      'backfill summary: 2 lines: sent 0, failed 1, not subscribed 1, not started 0',
      '  1 x an identify call matches --subscription (type = "identify"), but Track Conversion sends track calls only',
      '  use --failed FILE to keep the failed events for a replay',
      '  1 not subscribed: matches no --subscription (type = "identify"): Segment would not send it; not a failure'
    ])
  })

  it('after a dry run, the hint is to run the same backfill with --send, not to replay the failed file', async () => {
    const failed = file('dry-failed.ndjson', '')
    const input = [event('d3'), event('d4', { properties: { total: 'ten' } })].join('\n')
    const run = await toolkit(['backfill', '--event', '-', '--failed', failed], { env, input })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      `  this was a dry run: nothing was sent. The events that would fail are in ${failed}. Fix them in the original file, then run this same backfill with --send: everflow-toolkit backfill --event - --failed ${failed} --send\n`
    )
    expect(run.stderr).not.toContain('replay them with')
  })

  it('a line that is not JSON replays as it was: same text, line and reason in the next failed file', async () => {
    const first = file('text-failed-1.ndjson', '')
    const second = file('text-failed-2.ndjson', '')
    const input = [event('ok7'), '{"type": "track", oops'].join('\n')
    await toolkit(['backfill', '--event', '-', '--send', '--failed', first], { env, input })
    const replay = await toolkit(['backfill', '--event', first, '--send', '--failed', second], { env })
    expect(replay.code).toBe(1)
    const [original] = lines(readFileSync(first, 'utf8')).map((line) => JSON.parse(line))
    expect(original).toEqual({
      everflowFailure: {
        line: 2,
        reason: expect.stringContaining('not JSON'),
        retryable: false,
        text: '{"type": "track", oops'
      }
    })
    expect(readFileSync(second, 'utf8')).toBe(readFileSync(first, 'utf8'))
  })

  it.each([
    ['a pretty-printed JSON array', (events: object[]) => JSON.stringify(events, null, 2)],
    ['a Segment HTTP API batch body', (events: object[]) => JSON.stringify({ batch: events }, null, 2)]
  ])('reads %s as its events', async (_name, write) => {
    const input = write([JSON.parse(event('arr1')), JSON.parse(event('arr2'))])
    const run = await toolkit(['backfill', '--event', '-', '--send'], { env, input })
    expect(run.code).toBe(0)
    expect(lines(afterSettings(run.stderr))[0]).toBe(
      'backfill summary: 2 lines: sent 2, failed 0, not subscribed 0, not started 0'
    )
    expect(server.received.map(idOf).sort()).toEqual(['arr1', 'arr2'])
  })

  it('a --failed file that cannot be written is a one-line message; exit 2', async () => {
    const run = await toolkit(['backfill', '--event', '-', '--failed', '/nonexistent/dir/f'], {
      env,
      input: event('x')
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      '--failed /nonexistent/dir/f: cannot write the failed file (ENOENT). Give a file in a folder that exists and that you may write to.'
    )
    expect(run.stderr).not.toContain('    at ')
  })

  it('a --mapping without transaction_id is blamed, not the event; a value every event shares stays in the summary', async () => {
    const mapping = file('partial-mapping.json', JSON.stringify({ amount: { '@path': '$.properties.total' } }))
    const partial = await toolkit(['backfill', '--event', '-', '--mapping', mapping], { env, input: event('pm1') })
    expect(partial.stderr).toContain(
      `  1 x transaction_id is missing because --mapping ${mapping} does not map it (the default mapping takes it from {"@path":"$.context.referrer.id"}).`
    )
    const google = (id: string) => event(id, { context: { referrer: { type: 'google', id } } })
    const other = (id: string) => event(id, { context: { referrer: { type: 'bing', id } } })
    const run = await toolkit(['backfill', '--event', '-', '--subscription', 'type = "track"'], {
      env,
      input: [google('g1'), other('g2')].join('\n')
    })
    expect(run.stderr).toContain('  2 x referrer_type is "…", not everflow\n')
  })

  it.each<[string[], string]>([
    [[], 'backfill needs --event FILE'],
    [['--event', '-', '--rate', '0'], '--rate must be a number above 0, not 0.'],
    [['--event', '-', '--every', 'x'], '--every must be a number of seconds above 0, not x.']
  ])('exits 2 on %p', async (args, message) => {
    const run = await toolkit(['backfill', ...args], { env })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
  })
})
