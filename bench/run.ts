// npm run bench: throughput and memory of the destination against a loopback server. Not a test.
import { fork } from 'child_process'
import http from 'http'
import path from 'path'
import { createRequestClient, createTestEvent, defaultValues, Destination } from '@segment/actions-core'
import type { DestinationDefinition, SegmentEvent } from '@segment/actions-core'
import { createDestination } from '../src'
import { dnsLookup } from '../src/addresses'
import type { Settings } from '../src/generated-types'
import { parseSettings } from '../src/settings'
import { ORDER_COMPLETED_SUBSCRIPTION } from '../src/subscriptions'
import type { ParsedSettings } from '../src/settings'
import { buildPostback } from '../src/trackConversion/postback'
import { MAX_POSTBACKS_IN_FLIGHT } from '../src/trackConversion'
import { forEachBounded } from '../src/pool'
import type { Payload } from '../src/trackConversion/generated-types'
import { alternating, eventsPerSecond, median } from './rounds'
import { backfillOverBatch, cliDryOverFramework } from './toolkit'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const settings: Settings = {
  apiKey: 'bench-key',
  eventMapping: 'Order Completed=0\nSigned Up=12',
  postbackUrl: 'https://www.trkexample.com/?nid=123&transaction_id={transaction_id}'
}
// What Segment runs for every event of the destination's preset (core parses it for each call): the floor and the
// destination pay for the same subscription.
const subscribe = ORDER_COMPLETED_SUBSCRIPTION

function event(n: number): SegmentEvent {
  return createTestEvent({
    type: 'track',
    event: 'Order Completed',
    userId: `user-${n}`,
    messageId: `message-${n}`,
    timestamp: '2026-01-31T12:00:00.000Z',
    context: {
      referrer: { type: 'everflow', id: `click${String(n).padStart(27, '0')}` },
      ip: '23.123.123.123'
    } as never,
    properties: { total: 76.5, orderId: `order-${n}`, adv1: 'adv1test', adv3: 'adv3test', currency: 'usd' }
  })
}

/** Median events/s over ROUNDS rounds of `count` events. */
async function rate(count: number, run: () => Promise<void> | void): Promise<number> {
  const rates: number[] = []
  await run() // warm-up round: JIT, sockets, ajv schema compilation
  for (let round = 0; round < ROUNDS; round++) rates.push(await eventsPerSecond(count, run))
  return median(rates)
}

/** Runs fn over the indices 0..n-1 with `concurrency` at a time, through the destination's own bounded pool. */
function pool(n: number, concurrency: number, fn: (index: number) => Promise<unknown>): Promise<void> {
  return forEachBounded(
    Array.from({ length: n }, (_, index) => index),
    concurrency,
    async (index) => {
      await fn(index)
    }
  )
}

function subscriptionSettings(definition: DestinationDefinition<Settings>, action: string) {
  return {
    ...settings,
    subscription: { subscribe, partnerAction: action, mapping: defaultValues(definition.actions[action].fields) }
  }
}

interface Server {
  port: number
  stats: () => Promise<{ connections: number; requests: number }>
  stop: () => void
}

function startServer(): Promise<Server> {
  const child = fork(path.join(__dirname, 'server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const stats = () =>
    new Promise<{ connections: number; requests: number }>((resolve) => {
      child.once('message', resolve)
      child.send('stats')
    })
  return new Promise((resolve) =>
    child.once('message', (message: { port: number }) =>
      resolve({ port: message.port, stats, stop: () => child.kill() })
    )
  )
}

/** Heap still in use after a full collection: what is really retained (needs node --expose-gc). */
function liveHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run the benchmark with node --expose-gc (npm run bench does)')
  gc()
  return process.memoryUsage().heapUsed
}

/** The failed events of onBatch's results (one result per subscription, its events' multistatus); no multistatus is one. */
function failuresOf(results: unknown[]): number {
  let failures = 0
  for (const { multistatus } of results as Array<{ multistatus?: Array<{ errormessage?: unknown }> }>) {
    if (!multistatus) failures++
    for (const entry of multistatus ?? []) if (entry.errormessage !== undefined) failures++
  }
  return failures
}

/**
 * Core's Destination keeps every HTTP response in `destination.responses` (for tests); a runtime that keeps one
 * Destination for many events must empty it, or memory grows with every event. This is what it does.
 */
function drained<T>(destination: Destination<Settings>, result: T): T {
  destination.responses.length = 0
  return result
}

/** The payloads of the builder measurement: the benchmark's event as the default mapping reads it. */
function benchPayloads(): Payload[] {
  return Array.from({ length: 1000 }, (_, n) => ({
    transaction_id: `click${String(n).padStart(27, '0')}`,
    referrer_type: 'everflow',
    event_name: 'Order Completed',
    amount: '76.5',
    order_id: `order-${n}`,
    user_ip: '23.123.123.123',
    adv1: 'adv1test',
    adv3: 'adv3test',
    currency: 'usd',
    timestamp: '2026-01-31T12:00:00.000Z'
  }))
}

/** The pure builder, events/s. */
function measureBuilder(payloads: Payload[], parsed: ParsedSettings): Promise<number> {
  return rate(100_000, () => {
    for (let i = 0; i < 100_000; i++) buildPostback(payloads[i % 1000], parsed)
  })
}

/**
 * The framework floor (a no-op action on the same fields), and trackConversion's own work on top of it (everything
 * but the HTTP call, which is where the address guard runs). Rounds alternate between the two, so both see the same
 * machine state; the figure is the median ratio. runFloor is kept for the toolkit's figure.
 */
async function measureActionOverFramework(events: SegmentEvent[]) {
  const real = createDestination()
  const fields = real.actions.trackConversion.fields
  const floorDefinition: DestinationDefinition<Settings> = {
    ...real,
    actions: { noop: { title: 'No-op', description: 'Does nothing.', fields, perform: () => undefined } }
  }
  const ownWorkDefinition: DestinationDefinition<Settings> = {
    ...real,
    actions: {
      noop: {
        title: 'No-op',
        description: 'Does all but the HTTP call.',
        fields,
        perform: (_request, { payload, settings }) => {
          buildPostback(payload as Payload, parseSettings(settings))
        }
      }
    }
  }
  const FRAMEWORK_EVENTS = 10_000
  const runner = (definition: DestinationDefinition<Settings>) => {
    const destination = new Destination(definition)
    const options = subscriptionSettings(definition, 'noop')
    return () =>
      eventsPerSecond(FRAMEWORK_EVENTS, async () => {
        for (let i = 0; i < FRAMEWORK_EVENTS; i++) {
          drained(destination, await destination.onEvent(events[i % 1000], options))
        }
      })
  }
  const runFloor = runner(floorDefinition)
  const {
    first: floor,
    second: own,
    ratio
  } = await alternating(
    ROUNDS * 2,
    runFloor,
    runner(ownWorkDefinition),
    (floorRate, ownRate) => `floor ${floorRate}/s, trackConversion ${ownRate}/s`
  )
  return { floor, own, ratio, runFloor }
}

/** Batches of 1,000 events in one timed round of the batch path. */
const BATCHES = 10

/**
 * The destination as Segment runs it, aimed at the loopback server by name (`localhost`), so that every connection
 * goes through the address guard with Node's resolver; the test-only allowAddress lets the loopback address through.
 * Counts the postbacks that failed, and the connections the guard opened (it looks the host up for each one).
 */
function loopbackDestination(origin: string, events: SegmentEvent[]) {
  let connections = 0
  const definition = createDestination({
    postbackOrigin: origin,
    lookup: (host) => {
      connections++
      return dnsLookup(host)
    },
    allowAddress: (address) => address === '127.0.0.1' || address === '::1'
  })
  const destination = new Destination(definition)
  const options = subscriptionSettings(definition, 'trackConversion')
  let failures = 0
  /** One batch of the 1,000 events through onBatch. */
  const batch = async () => {
    failures += failuresOf(drained(destination, await destination.onBatch(events, options)))
  }
  return {
    single: async (event: SegmentEvent) => drained(destination, await destination.onEvent(event, options)),
    batch,
    /** events/s of BATCHES batches. */
    batchRate: () =>
      eventsPerSecond(BATCHES * 1000, async () => {
        for (let b = 0; b < BATCHES; b++) await batch()
      }),
    failures: () => failures,
    connections: () => connections
  }
}
type Loopback = ReturnType<typeof loopbackDestination>

/** Single events at concurrency 1 and 32, events/s. */
async function measureSingles(loopback: Loopback, events: SegmentEvent[]): Promise<Record<number, number>> {
  const SINGLE_EVENTS = 5_000
  const singles: Record<number, number> = {}
  for (const concurrency of [1, 32]) {
    singles[concurrency] = await rate(SINGLE_EVENTS, () =>
      pool(SINGLE_EVENTS, concurrency, (i) => loopback.single(events[i % 1000]))
    )
  }
  return singles
}

/**
 * Batches of 1,000 through onBatch, and what the framework's request client alone reaches with the same URLs at the
 * same concurrency (no mapping, no action: the ceiling for any destination), events/s. batch/client compares the
 * two, so their rounds alternate and both see the same machine state (on 2 cores, one round can run at half the
 * speed of the next).
 */
async function measureBatchesAndClient(loopback: Loopback, urls: string[]) {
  const client = createRequestClient()
  const { first: batch, second: clientFloor } = await alternating(
    ROUNDS,
    loopback.batchRate,
    () =>
      eventsPerSecond(10_000, () =>
        pool(10_000, MAX_POSTBACKS_IN_FLIGHT, (i) =>
          client(urls[i % 1000], { method: 'GET', throwHttpErrors: false, skipResponseCloning: true })
        )
      ),
    (batches, clientRate) => `batches ${batches}/s, client ${clientRate}/s`
  )
  return { batch, clientFloor }
}

/** The wire floors: the same URLs with plain Node http, keep-alive, at the concurrency of each path. */
async function measureWireFloors(urls: string[]) {
  const agent = new http.Agent({ keepAlive: true })
  const get = (url: string) =>
    new Promise<void>((resolve, reject) =>
      http.get(url, { agent }, (response) => response.resume().on('end', resolve)).on('error', reject)
    )
  const wire: Record<number, number> = {}
  for (const concurrency of [MAX_POSTBACKS_IN_FLIGHT, 32]) {
    wire[concurrency] = await rate(10_000, () => pool(10_000, concurrency, (i) => get(urls[i % 1000])))
  }
  agent.destroy()
  return wire
}

/**
 * Memory: 100,000 events through the batch path. RSS rises and falls with garbage collection, so the figure is how
 * far the peak of the last 90,000 events rises above the peak of the first 10,000: zero when memory is flat, and
 * growing with the event count if anything is retained per event.
 */
async function measureMemory(loopback: Loopback) {
  let rssPeak = 0
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 10)
  let firstPeak = 0
  let heapAfter10k = 0
  for (let b = 0; b < 100; b++) {
    await loopback.batch()
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
    if (b === 9) {
      firstPeak = rssPeak
      heapAfter10k = liveHeap()
    }
  }
  const heapGrowthMb = (liveHeap() - heapAfter10k) / 2 ** 20
  clearInterval(sampler)
  return { firstPeakMb: firstPeak / 2 ** 20, rssGrowthMb: Math.max(0, rssPeak - firstPeak) / 2 ** 20, heapGrowthMb }
}

async function main(): Promise<void> {
  const rows: Array<[string, string]> = []
  const row = (name: string, value: number, unit = 'events/s') => {
    rows.push([name, `${Math.round(value).toLocaleString('en-US')} ${unit}`])
    console.error(`  ${name}: ${Math.round(value)} ${unit}`)
  }
  const parsed = parseSettings(settings)
  const payloads = benchPayloads()
  const events = Array.from({ length: 1000 }, (_, n) => event(n))

  row('builder', await measureBuilder(payloads, parsed))
  const framework = await measureActionOverFramework(events)
  row('framework floor (no-op action)', framework.floor)
  row('trackConversion without HTTP', framework.own)

  const server = await startServer()
  const origin = `http://127.0.0.1:${server.port}`
  const loopback = loopbackDestination(`http://localhost:${server.port}`, events)
  const singles = await measureSingles(loopback, events)
  row('single events, concurrency 1', singles[1])
  row('single events, concurrency 32', singles[32])
  const urls = payloads.map((payload) => {
    const url = new URL(buildPostback(payload, parsed).url)
    return `${origin}${url.pathname}${url.search}`
  })
  const { batch, clientFloor } = await measureBatchesAndClient(loopback, urls)
  row('batches of 1,000', batch)
  // The guard's agents keep connections alive (core's destroy() of a passed agent does nothing to them). The server
  // also saw the client floor's requests, on connections of Node's global agent.
  const { requests } = await server.stats()
  const postbacks = requests - (ROUNDS + 1) * 10_000
  rows.push([
    'connections opened by the single and batch paths',
    `${loopback.connections()} for ${postbacks.toLocaleString('en-US')} postbacks`
  ])
  row(`framework request client alone, concurrency ${MAX_POSTBACKS_IN_FLIGHT}`, clientFloor)
  const wire = await measureWireFloors(urls)
  for (const concurrency of [MAX_POSTBACKS_IN_FLIGHT, 32])
    row(`wire floor, concurrency ${concurrency}`, wire[concurrency])

  const memory = await measureMemory(loopback)
  rows.push(['peak RSS, first 10,000 batched events', `${memory.firstPeakMb.toFixed(0)} MB`])
  rows.push(['peak RSS growth over the next 90,000', `${memory.rssGrowthMb.toFixed(1)} MB`])
  rows.push(['live heap growth over the next 90,000 (after GC)', `${memory.heapGrowthMb.toFixed(1)} MB`])

  // The toolkit (bench/toolkit.ts).
  const cliDry = await cliDryOverFramework(events, ROUNDS, framework.runFloor)
  const backfillBatch = await backfillOverBatch(events, ROUNDS, origin, loopback.batchRate)
  rows.push(['toolkit dry run over framework floor (cli_dry/framework)', cliDry.toFixed(2)])
  rows.push(['toolkit backfill over batches (backfill/batch)', backfillBatch.toFixed(2)])
  server.stop()

  if (loopback.failures() > 0) throw new Error(`${loopback.failures()} postbacks failed against the loopback server`)

  const width = Math.max(...rows.map(([name]) => name.length))
  console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value.padStart(18)}`).join('\n'))
  console.log(
    `bench: batch/wire=${(batch / wire[MAX_POSTBACKS_IN_FLIGHT]).toFixed(2)} single32/wire=${(singles[32] / wire[32]).toFixed(2)} ` +
      `action/framework=${framework.ratio.toFixed(2)} rss_growth_mb=${Math.round(memory.rssGrowthMb)} ` +
      `batch/client=${(batch / clientFloor).toFixed(2)} client/wire=${(clientFloor / wire[MAX_POSTBACKS_IN_FLIGHT]).toFixed(2)} ` +
      `cli_dry/framework=${cliDry.toFixed(2)} backfill/batch=${backfillBatch.toFixed(2)}`
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
