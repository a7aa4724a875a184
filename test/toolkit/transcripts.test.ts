// docs/toolkit.md's transcripts, run as written: every `$ ` command of the page goes through run() in-process, and
// what it prints (stdout and stderr as they interleave in a terminal) must be the output the page shows under it.
// The commands after the page's "local fake" paragraph run against scripts/fake-everflow.ts, as the page says.
import { spawn } from 'child_process'
import type { ChildProcess } from 'child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import { toolkit } from './support'

const ROOT = path.join(__dirname, '..', '..')
const PAGE = readFileSync(path.join(ROOT, 'docs', 'toolkit.md'), 'utf8')
const FAKE_PARAGRAPH = '**local fake, not Everflow**'
/** The port the page's outputs were recorded with (`scripts/fake-everflow.ts 8787`). */
const SHOWN_PORT = '8787'

interface Transcript {
  /** The command line as the page shows it, without the `$ `. */
  command: string
  /** The lines the page shows under it, up to the next command or the end of the block. */
  shown: string[]
  /** After the local-fake paragraph: run with the test origins aimed at the fake. */
  againstFake: boolean
  /** The day the prose says the command was run on ("run on 2026-12-01"), when its output depends on it. */
  runOn?: string
}

/**
 * Every command of the page's transcripts. A transcript is a ``` block whose first line is a `$ ` command; the
 * others (```sh blocks of commands to type, which show no output) are returned apart, to be checked.
 */
function transcriptsOf(page: string): { transcripts: Transcript[]; skipped: string[] } {
  const fakeAt = page.indexOf(FAKE_PARAGRAPH)
  const found: Transcript[] = []
  const skipped: string[] = []
  const block = /^```[^\n]*\n([\s\S]*?)^```$/gm
  let proseFrom = 0
  for (let match = block.exec(page); match; match = block.exec(page)) {
    const prose = page.slice(proseFrom, match.index)
    proseFrom = match.index + match[0].length
    if (!match[1].startsWith('$ ')) {
      skipped.push(match[0])
      continue
    }
    const runOn = /\brun on (\d{4}-\d{2}-\d{2})\b/.exec(prose)?.[1]
    for (const line of match[1].replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) {
        found.push({ command: line.slice(2), shown: [], againstFake: fakeAt >= 0 && match.index > fakeAt, runOn })
      } else {
        found[found.length - 1].shown.push(line)
      }
    }
  }
  return { transcripts: found, skipped }
}

/** A shell line split into words as sh does for these commands: '...' literal, "..." with \ escapes, and | apart. */
function wordsOf(line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  for (let at = 0; at < line.length; at++) {
    const char = line[at]
    if (char === "'") {
      const end = line.indexOf("'", at + 1)
      if (end < 0) throw new Error(`unclosed ' in: ${line}`)
      word = (word ?? '') + line.slice(at + 1, end)
      at = end
    } else if (char === '"') {
      word ??= ''
      for (at++; line[at] !== '"'; at++) {
        if (at >= line.length) throw new Error(`unclosed " in: ${line}`)
        if (line[at] === '\\' && '"\\$`'.includes(line[at + 1])) at++
        word += line[at]
      }
    } else if (char === '\\' && at + 1 < line.length) {
      word = (word ?? '') + line[++at]
    } else if (char === ' ' || char === '|') {
      if (word !== undefined) words.push(word)
      word = undefined
      if (char === '|') words.push('|')
    } else {
      word = (word ?? '') + char
    }
  }
  if (word !== undefined) words.push(word)
  return words
}

type Parsed =
  { kind: 'cat'; file: string } | { kind: 'toolkit'; args: string[]; env: Record<string, string>; input?: string }

/** What a command does: `cat FILE`, or `[printf '%s\n' X... |] [NAME=value ...] npm start [-- args]`. */
function parse(command: string): Parsed {
  let words = wordsOf(command)
  if (words[0] === 'cat' && words.length === 2) return { kind: 'cat', file: words[1] }
  let input: string | undefined
  const pipe = words.indexOf('|')
  if (pipe >= 0) {
    const printf = words.slice(0, pipe)
    if (printf[0] !== 'printf' || printf[1] !== '%s\\n') throw new Error(`unsupported input: ${command}`)
    // printf repeats its format for each argument: one line each.
    input = printf
      .slice(2)
      .map((text) => `${text}\n`)
      .join('')
    words = words.slice(pipe + 1)
  }
  const env: Record<string, string> = {}
  while (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] ?? '')) {
    const [name, ...value] = words.shift()!.split('=')
    env[name] = value.join('=')
  }
  if (words[0] !== 'npm' || words[1] !== 'start' || (words.length > 2 && words[2] !== '--')) {
    throw new Error(`not a toolkit command: ${command}`)
  }
  return { kind: 'toolkit', args: words.slice(3), env, input }
}

/**
 * The printed lines with the page's `...` lines (each "zero or more lines elided here") standing for the lines they
 * match, so that a match compares equal to the page; undefined when no way of eliding makes them match.
 */
function elided(shown: string[], printed: string[]): string[] | undefined {
  if (shown.length === 0) return printed.length === 0 ? [] : undefined
  const [first, ...rest] = shown
  if (first !== '...') {
    if (printed[0] !== first) return undefined
    const tail = elided(rest, printed.slice(1))
    return tail && [first, ...tail]
  }
  for (let skip = 0; skip <= printed.length; skip++) {
    const tail = elided(rest, printed.slice(skip))
    if (tail) return ['...', ...tail]
  }
  return undefined
}

// The fake records a click and its conversions at the time they reach it, so the page shows the times of the run it
// was recorded in; any date-time of the same form stands for them.
const RECORDED_AT = /\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\b/g
const ANY_TIME = 'YYYY-MM-DD HH:MM:SS UTC'

const { transcripts, skipped } = transcriptsOf(PAGE)

describe('docs/toolkit.md', () => {
  it('has the transcripts this test runs, none dropped by the block rule', () => {
    expect(PAGE).toContain(FAKE_PARAGRAPH)
    expect(transcripts).toHaveLength(14)
    expect(transcripts.filter(({ againstFake }) => againstFake)).toHaveLength(9)
    expect(transcripts.filter(({ runOn }) => runOn)).toHaveLength(1)
    // Only the two ```sh blocks (npm ci / npm start, and starting the fake) are not run: no command hides in them.
    expect(skipped).toHaveLength(2)
    for (const block of skipped) {
      expect(block.startsWith('```sh\n')).toBe(true)
      expect(block).not.toMatch(/^\$ /m)
    }
  })
})

describe('docs/toolkit.md transcripts, in the page order (later ones read what earlier ones sent to the fake)', () => {
  // The page's /tmp files live in a folder of this test; paths are rewritten there and back.
  let scratch: string
  let fake: ChildProcess | undefined
  let fakeOrigin: string

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'everflow-transcripts-'))
    // /tmp/objmap.json, as the prose describes it: the example settings with their eventMapping as an object.
    const example = JSON.parse(readFileSync(path.join(ROOT, 'examples', 'settings.json'), 'utf8'))
    writeFileSync(
      path.join(scratch, 'objmap.json'),
      JSON.stringify({ ...example, eventMapping: { 'Order Completed': 0, 'Signed Up': 12 } }, null, 2)
    )
    ;({ fake, origin: fakeOrigin } = await startFake())
  }, 30_000)

  afterAll(() => {
    fake?.kill()
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  })

  const inScratch = (arg: string) => {
    // Only whole /tmp paths are rewritten; one inside an argument (--failed=/tmp/x) would write to the real /tmp.
    if (arg.includes('/tmp/') && !arg.startsWith('/tmp/')) throw new Error(`a /tmp path inside ${arg}`)
    return arg.startsWith('/tmp/') ? path.join(scratch, arg.slice('/tmp/'.length)) : arg
  }

  async function printed({ command, againstFake, runOn }: Transcript): Promise<string> {
    const parsed = parse(command)
    if (parsed.kind === 'cat') return readFileSync(inScratch(parsed.file), 'utf8')
    // One string for both streams, in the order of the writes: what a terminal shows.
    let output = ''
    const write = (text: string) => (output += text)
    // The page's `export` of the test origins holds for the commands after the fake paragraph. DNS is answered by
    // the support's publicLookup (a public address), as no test may use real DNS.
    const origins: Record<string, string> = againstFake
      ? { EVERFLOW_CLI_TEST_API_ORIGIN: fakeOrigin, EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: fakeOrigin }
      : {}
    // Noon UTC of the day the prose names: the output depends on today's date only by the day.
    const clock = runOn ? jest.spyOn(Date, 'now').mockReturnValue(Date.parse(`${runOn}T12:00:00Z`)) : undefined
    try {
      await toolkit(parsed.args.map(inScratch), {
        // npm start runs the toolkit under npm's "start" script, as the page's commands do.
        env: { npm_lifecycle_event: 'start', ...origins, ...parsed.env },
        input: parsed.input,
        io: { stdout: { write }, stderr: { write, isTTY: false } }
      })
    } finally {
      clock?.mockRestore()
    }
    return output
  }

  it.each(transcripts.map((transcript) => [transcript.command, transcript] as const))(
    '$ %s',
    async (_command, transcript) => {
      const output = (await printed(transcript))
        // The test's folder for the page's /tmp.
        .split(`${scratch}/`)
        .join('/tmp/')
        // The fake listens on a free port; the page's runs used 8787.
        .split(fakeOrigin)
        .join(`http://127.0.0.1:${SHOWN_PORT}`)
      const times = (text: string) => (transcript.againstFake ? text.replace(RECORDED_AT, ANY_TIME) : text)
      const lines = times(output).replace(/\n$/, '').split('\n')
      const shown = transcript.shown.map(times)
      expect((elided(shown, lines) ?? lines).join('\n')).toBe(shown.join('\n'))
    }
  )
})

/** scripts/fake-everflow.ts as the page starts it, in its own process, on a free port; resolves once it listens. */
function startFake(): Promise<{ fake: ChildProcess; origin: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/fake-everflow.ts', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let said = ''
    child.stderr?.on('data', (chunk) => {
      said += String(chunk)
      const origin = /fake Everflow on (http:\/\/127\.0\.0\.1:[0-9]+)/.exec(said)?.[1]
      if (origin) resolve({ fake: child, origin })
    })
    child.on('exit', (code) => reject(new Error(`the fake Everflow exited (${code}) before listening: ${said}`)))
  })
}
