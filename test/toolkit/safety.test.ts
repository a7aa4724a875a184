// Nothing real is ever sent with settings that are not the user's, and every hint that prints a command prints the
// whole command, so that pasted it does the same thing.
import nock from 'nock'
import { EXAMPLE, event, file, lines, toolkit, trackingServer } from './support'

/** The words of a printed command as sh reads them: bare words and '...' (with '\'' for a quote). */
function shellWords(command: string): string[] {
  const words: string[] = []
  const word = /'((?:[^']|'\\'')*)'|(\S+)/g
  for (let match = word.exec(command); match; match = word.exec(command)) {
    words.push(match[1] !== undefined ? match[1].replace(/'\\''/g, "'") : match[2])
  }
  return words
}

/** The arguments of the command a hint prints (after the program's name), to run them as pasted. */
function pasted(stderr: string, before: string): string[] {
  const line = lines(stderr).find((text) => text.includes(before))
  if (!line) throw new Error(`no hint "${before}" in: ${stderr}`)
  const words = shellWords(line.slice(line.indexOf(before) + before.length))
  expect(words[0]).toBe('everflow-toolkit')
  return words.slice(1)
}

const mine = (postbackUrl = 'https://trk.mine.example/?nid=77') =>
  file(
    `mine-${Math.random().toString(36).slice(2)}.json`,
    JSON.stringify({ apiKey: 'my-key', eventMapping: 'Order Completed=0\nSigned Up=5', postbackUrl })
  )

describe('the example settings never send', () => {
  it('backfill --send without settings sends nothing, exits 2 and says what to give', async () => {
    const server = await trackingServer()
    try {
      const events = file('unsafe.ndjson', event('s1'))
      // Even with postbacks aimed at a loopback server: the example settings need both test origins (the local fake).
      const run = await toolkit(['backfill', '--event', events, '--send'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin }
      })
      expect(run.code).toBe(2)
      expect(server.received).toEqual([])
      expect(run.stderr).toContain(
        '--send needs your settings, and none were given: the example settings (examples/settings.json) serve dry runs only'
      )
      expect(run.stderr).toContain(
        `e.g. everflow-toolkit backfill --event ${events} --send --settings my-settings.json, or set EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING and EVERFLOW_POSTBACK_URL.`
      )
    } finally {
      await server.close()
    }
  })

  it.each([
    ['preview --send', ['--send'], '--send needs your settings'],
    ['verify', ['verify', '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a51'], 'verify needs your settings'],
    ['--send --verify', ['--send', '--verify'], '--send needs your settings']
  ])('%s without settings is refused before any request (exit 2)', async (_name, args, message) => {
    const run = await toolkit(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(message)
    expect(run.stdout).toBe('')
    expect(nock.pendingMocks()).toEqual([])
  })

  it('check-settings without settings checks nothing and fails the settings line (exit 2)', async () => {
    const run = await toolkit(['check-settings'])
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('FAIL  settings: check-settings needs your settings, and none were given')
  })

  it('a dry run still runs on the example settings', async () => {
    const run = await toolkit([])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('would send (dry run; --send sends it): GET https://www.trkexample.com/')
  })

  it('EVERFLOW_* variables alone must be complete: the missing ones are named, nothing is sent', async () => {
    const run = await toolkit(['--send'], { env: { EVERFLOW_POSTBACK_URL: 'https://trk.mine.example/?nid=77' } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'Settings from EVERFLOW_* variables alone must be complete: EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING are not set (set: EVERFLOW_POSTBACK_URL).'
    )
  })

  it('verify by transaction id needs only EVERFLOW_API_KEY of the variables', async () => {
    nock('https://api.eflow.team')
      .get('/v1/networks/reporting/transactions/0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a51')
      .reply(404, { error: 'Not found' })
    const run = await toolkit(['verify', '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a51'], { env: { EVERFLOW_API_KEY: 'my-key' } })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('click not found')
    expect(nock.isDone()).toBe(true)
  })

  it.each([[[]], [['--send']]])('an unknown EVERFLOW_* name is named (%j), with the names that exist', async (args) => {
    const run = await toolkit([...args, '--settings', mine()], { env: { EVERFLOW_POSTBACK_URI: 'https://x.example/' } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'Unknown variable EVERFLOW_POSTBACK_URI: the toolkit reads no such setting. The settings variables are EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING, EVERFLOW_POSTBACK_URL, EVERFLOW_NETWORK_ID, EVERFLOW_VERIFICATION_TOKEN, EVERFLOW_API_REGION.'
    )
    expect(run.stdout).toBe('')
  })
})

describe('hints print the whole command', () => {
  it('the replay hint of a backfill, pasted, replays with the same settings, rate and subscription', async () => {
    let down = true
    const server = await trackingServer(() => ({ status: down ? 503 : 200 }))
    try {
      const settings = mine()
      const events = file('hint.ndjson', [event('h1'), event('h2', { event: 'Signed Up' })].join('\n'))
      const failed = file('hint-failed.ndjson', '')
      const env = { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin }
      const args = ['backfill', '--settings', settings, '--rate', '1000', '--subscription', 'type = "track"']
      const first = await toolkit([...args, '--event', events, '--send', '--failed', failed], { env })
      expect(first.code).toBe(1)
      const replay = pasted(first.stderr, 'replay them with: ')
      expect(replay).toEqual([
        ...args,
        '--send',
        '--event',
        failed,
        '--failed',
        failed.replace(/\.ndjson$/, '-replay.ndjson')
      ])
      down = false
      server.received.length = 0
      const again = await toolkit(replay, { env })
      expect(again.code).toBe(0)
      expect(again.stderr).toContain(`settings: apiKey, eventMapping, postbackUrl from ${settings}\n`)
      // Both events, the Signed Up one only because the subscription came along; the network of mine.json.
      expect(server.received.map((url) => new URL(url, 'http://x').searchParams.get('nid'))).toEqual(['77', '77'])
      expect(server.received.some((url) => url.includes('adv_event_id=5'))).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('a retryable failure in the preview prints the whole command, quoted for the shell', async () => {
    const server = await trackingServer(() => ({ status: 503 }))
    try {
      const events = file('retry.json', event('r1'))
      const run = await toolkit(
        ['--settings', EXAMPLE[1], '--event', events, '--subscription', 'type = \'x\' or type = "track"', '--send'],
        {
          env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin }
        }
      )
      expect(run.code).toBe(1)
      const words = pasted(run.stdout, 'Replay it by running the same command again: ')
      expect(words).toEqual([
        '--settings',
        EXAMPLE[1],
        '--event',
        events,
        '--subscription',
        'type = \'x\' or type = "track"',
        '--send'
      ])
    } finally {
      await server.close()
    }
  })

  it('with settings from variables, the hint says they must be set as for this run (never their values)', async () => {
    const server = await trackingServer(() => ({ status: 503 }))
    try {
      const run = await toolkit(['--send'], {
        env: {
          EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin,
          EVERFLOW_API_KEY: 'secret-key-1',
          EVERFLOW_EVENT_MAPPING: 'Order Completed=0',
          EVERFLOW_POSTBACK_URL: 'https://trk.mine.example/?nid=77'
        }
      })
      expect(run.stdout).toContain(
        'Replay it by running the same command again: everflow-toolkit --send (with EVERFLOW_API_KEY, EVERFLOW_EVENT_MAPPING, EVERFLOW_POSTBACK_URL set as for this run)'
      )
      expect(run.stdout).not.toContain('secret-key-1')
    } finally {
      await server.close()
    }
  })
})
