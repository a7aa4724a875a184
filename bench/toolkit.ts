// The toolkit's figures for npm run bench: the preview's dry run against the framework floor, and a backfill
// against the batch path, both on the same machine state (rounds alternate, the figure is the median ratio).
import { mkdtempSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import type { SegmentEvent } from '@segment/actions-core'
import { run } from '../src/toolkit/main'
import type { Io } from '../src/toolkit/shared/io'
import { alternating, eventsPerSecond } from './rounds'

/** Runs use() with an NDJSON file of `count` events in a temporary folder, removed afterwards. */
async function withNdjsonFile<T>(events: SegmentEvent[], count: number, use: (file: string) => Promise<T>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'everflow-bench-'))
  const file = path.join(dir, 'events.ndjson')
  try {
    writeFileSync(file, Array.from({ length: count }, (_, n) => JSON.stringify(events[n % events.length])).join('\n'))
    return await use(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** events/s of one toolkit run over `count` events, output thrown away (stderr, a summary, is kept for errors). */
async function toolkitRate(args: string[], env: Record<string, string>, count: number): Promise<number> {
  let stderr = ''
  const io: Io = {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text), isTTY: false },
    env,
    readStdin: () => ''
  }
  return eventsPerSecond(count, async () => {
    const code = await run(args, io)
    if (code !== 0) throw new Error(`toolkit ${args.join(' ')} exited ${code}:\n${stderr}`)
  })
}

async function medianRatio(rounds: number, measure: () => Promise<number>, against: () => Promise<number>) {
  const { ratio } = await alternating(rounds, measure, against, (own, base) => `${own}/s against ${base}/s`)
  return ratio
}

/** cli_dry/framework: the preview's dry run of NDJSON (--json, one line per event) over the framework floor. */
export function cliDryOverFramework(events: SegmentEvent[], rounds: number, frameworkFloor: () => Promise<number>) {
  const count = 5_000
  return withNdjsonFile(events, count, (file) =>
    medianRatio(rounds, () => toolkitRate(['--event', file, '--json'], {}, count), frameworkFloor)
  )
}

/** backfill/batch: backfill --send of NDJSON against the loopback server over batches through onBatch. */
export function backfillOverBatch(
  events: SegmentEvent[],
  rounds: number,
  origin: string,
  batchPath: () => Promise<number>
) {
  const count = 10_000
  const env = { EVERFLOW_CLI_TEST_POSTBACK_ORIGIN: origin, EVERFLOW_CLI_TEST_API_ORIGIN: origin }
  return withNdjsonFile(events, count, (file) =>
    medianRatio(
      rounds,
      () => toolkitRate(['backfill', '--event', file, '--send', '--every', '3600'], env, count),
      batchPath
    )
  )
}
