// The toolkit as a user runs it: a real process, its output, exit code and signals. Most behaviour is tested
// in-process (preview, backfill, verify, check-settings tests); these few runs prove the process around run()
// works: the entry point (npm start, through ts-node), stdin, exit codes, and Ctrl-C.
import { spawn, spawnSync } from 'child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import ts from 'typescript'
import { event, EXAMPLE_SETTINGS_LINE, file, lines, trackingServer } from './support'

const ROOT = path.join(__dirname, '..', '..')
let compiled: string

/**
 * src/ as JavaScript, compiled once the way ts-node and the build do (module by module), and laid out like the
 * project (examples and node_modules beside it), as the installed everflow-toolkit runs it. A ts-node start per
 * run would compile all of src again each time: most of this file's time.
 */
function compileSources(): string {
  const out = mkdtempSync(path.join(tmpdir(), 'everflow-e2e-'))
  const compile = (dir: string): void => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const source = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        compile(source)
      } else if (entry.name.endsWith('.ts')) {
        const { outputText } = ts.transpileModule(readFileSync(path.join(ROOT, source), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
          fileName: source
        })
        mkdirSync(path.join(out, dir), { recursive: true })
        writeFileSync(path.join(out, source.replace(/\.ts$/, '.js')), outputText)
      }
    }
  }
  compile('src')
  symlinkSync(path.join(ROOT, 'examples'), path.join(out, 'examples'))
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'))
  return out
}

beforeAll(() => {
  compiled = compileSources()
})

afterAll(() => {
  if (compiled) rmSync(compiled, { recursive: true, force: true })
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI without blocking the event loop, so a server in this process can answer it. */
function cli(
  args: string[],
  options: { env?: Record<string, string>; input?: string; onStderr?: (text: string, kill: () => void) => void } = {}
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(compiled, 'src', 'cli.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env }
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => {
      stderr += chunk
      options.onStderr?.(stderr, () => child.kill('SIGINT'))
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

describe('the toolkit process', () => {
  it('npm start with no arguments previews the example and exits 0', () => {
    const run = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, encoding: 'utf8' })
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('line 1 (Order Completed): dry-run')
    expect(run.stdout + run.stderr).not.toContain('example-token')
    expect(run.stderr).toBe(
      `${EXAMPLE_SETTINGS_LINE}summary: would send 1, not subscribed 0, rejected 0, retryable 0\n`
    )
  }, 30_000)

  it('--help prints every command and the exit codes, exit 0; a bad option exits 2', async () => {
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    for (const text of ['check-settings', 'backfill', 'verify', '--subscription', '--failed', 'Exit codes:']) {
      expect(help.stdout).toContain(text)
    }
    const bad = await cli(['backfill', '--nope'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("Unknown option '--nope'")
  }, 30_000)

  it('reads events from stdin and sends them to a loopback server; exit 1 when one fails', async () => {
    const server = await trackingServer((url) => ({ status: url.includes('transaction_id=bad') ? 400 : 200 }))
    try {
      const run = await cli(['--event', '-', '--send'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin },
        input: `${event('good1')}\n${event('bad1')}\n`
      })
      expect(run.code).toBe(1)
      expect(server.received).toHaveLength(2)
      expect(run.stdout).toContain('line 1 (Order Completed): sent')
      expect(run.stdout).toContain('line 2 (Order Completed): rejected')
      expect(run.stderr).toContain('summary: sent 1, not subscribed 0, rejected 1, retryable 0')
    } finally {
      await server.close()
    }
  }, 30_000)

  it('backfill: Ctrl-C stops starting postbacks, waits for those in flight and accounts for every line', async () => {
    // Slow answers, so the run is surely in the middle when the signal comes.
    const server = await trackingServer(() => ({ status: 200, delayMs: 200 }))
    const total = 300
    const events = file('sigint.ndjson', Array.from({ length: total }, (_, n) => event(`s${n}`)).join('\n'))
    const failed = file('sigint-failed.ndjson', '')
    let signalled = false
    try {
      const run = await cli(['backfill', '--event', events, '--send', '--failed', failed, '--every', '0.2'], {
        env: { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin, EVERFLOW_CLI_TEST_API_ORIGIN: server.origin },
        onStderr: (stderr, kill) => {
          if (!signalled && /backfill: [1-9]\d*\/300 lines done/.test(stderr)) {
            signalled = true
            kill()
          }
        }
      })
      expect(signalled).toBe(true)
      expect(run.code).toBe(130)
      expect(run.stderr).toContain('Ctrl-C: starting no new postbacks; waiting for those in flight...')
      const summary =
        /backfill summary: 300 lines: sent (\d+), failed (\d+), not subscribed 0, not started (\d+) \(stopped: Ctrl-C\)/.exec(
          run.stderr
        )
      expect(summary).not.toBeNull()
      const [sent, failedCount, notStarted] = (summary as RegExpExecArray).slice(1).map(Number)
      expect(sent + failedCount + notStarted).toBe(total)
      expect(notStarted).toBeGreaterThan(0)
      // Everything started was answered before the process ended: the server saw exactly the sent ones.
      expect(server.received).toHaveLength(sent)
      const replay = lines(readFileSync(failed, 'utf8')).map((line) => JSON.parse(line))
      expect(replay).toHaveLength(failedCount + notStarted)
      expect(replay[0].everflowFailure.reason).toBe('not started: the backfill was stopped (Ctrl-C) before this event')
    } finally {
      await server.close()
    }
  }, 30_000)

  // npm start runs the script through sh; without exec, npm's SIGINT went to sh and the toolkit never heard it.
  // A terminal's Ctrl-C goes to the whole process group, so the toolkit gets it twice (from the terminal and from
  // npm): that is still one Ctrl-C, a graceful stop.
  it.each([
    ['kill -INT of the npm process', (pid: number) => process.kill(pid, 'SIGINT')],
    ["Ctrl-C (SIGINT to npm start's process group)", (pid: number) => process.kill(-pid, 'SIGINT')]
  ])(
    '%s reaches the toolkit: a graceful stop with the summary, exit 130',
    async (_name, interrupt) => {
      const server = await trackingServer(() => ({ status: 200, delayMs: 200 }))
      const events = file('npm-sigint.ndjson', Array.from({ length: 300 }, (_, n) => event(`n${n}`)).join('\n'))
      try {
        const run = await new Promise<Run>((resolve) => {
          const child = spawn(
            'npm',
            ['start', '--silent', '--', 'backfill', '--event', events, '--send', '--every', '0.2'],
            {
              cwd: ROOT,
              env: {
                ...process.env,
                EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: server.origin,
                EVERFLOW_CLI_TEST_API_ORIGIN: server.origin
              },
              detached: true
            }
          )
          let stdout = ''
          let stderr = ''
          let signalled = false
          child.stdout.on('data', (chunk) => (stdout += chunk))
          child.stderr.on('data', (chunk) => {
            stderr += chunk
            if (!signalled && /backfill: [1-9]\d*\/300 lines done/.test(stderr)) {
              signalled = true
              interrupt(child.pid as number)
            }
          })
          child.on('close', (code) => resolve({ code, stdout, stderr }))
        })
        expect(run.stderr).toContain('Ctrl-C: starting no new postbacks; waiting for those in flight...')
        expect(run.stderr).toMatch(
          /backfill summary: 300 lines: sent \d+, failed 0, not subscribed 0, not started [1-9]\d* \(stopped: Ctrl-C\)/
        )
        expect(run.code).toBe(130)
      } finally {
        await server.close()
      }
    },
    90_000
  )

  it('a closed pipe (| head) stops the run quietly: no stack trace, no more output, exit 1', async () => {
    const input = Array.from({ length: 3000 }, (_, n) => event(`h${n}`)).join('\n')
    const run = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [path.join(compiled, 'src', 'cli.js'), '--event', '-'], { cwd: ROOT })
      let stderr = ''
      child.stdout.once('data', () => child.stdout.destroy())
      child.stderr.on('data', (chunk) => (stderr += chunk))
      child.on('close', (code) => resolve({ code, stdout: '', stderr }))
      child.stdin.end(input)
    })
    expect(run.stderr).not.toContain('unexpected error')
    expect(run.stderr).not.toContain('    at ')
    expect(run.stderr).toMatch(/output closed: stopped; [1-9]\d* event\(s\) not run\./)
    expect(run.code).toBe(1)
  }, 30_000)
})
