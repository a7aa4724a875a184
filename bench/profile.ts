// npm run bench:profile: where the CPU time of the batch path goes, by owner (this destination, actions-core,
// node-fetch, Node's http, ...). It shows what bounds throughput against a loopback server.
import { fork } from 'child_process'
import { Session } from 'inspector'
import path from 'path'
import { createTestEvent, defaultValues, Destination } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import { createDestination } from '../src'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

function ownerOf({ url, functionName }: ProfileNode['callFrame']): string {
  if (url.includes('/src/')) return 'this destination (src/)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (pkg) return pkg
  if (url.startsWith('node:')) return /node:_?http|node:net|node:_http/.test(url) ? "Node's http/net" : 'Node internals'
  if (functionName === '(garbage collector)') return 'garbage collector'
  if (functionName === '(idle)' || functionName === '(program)') return 'idle, waiting on the server'
  return 'native (V8 builtins, socket writes)'
}

function post<T>(session: Session, method: string): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, (error, result) => (error ? reject(error) : resolve(result as T)))
  )
}

async function main(): Promise<void> {
  const child = fork(path.join(__dirname, 'server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
  const definition = createDestination({
    postbackOrigin: `http://localhost:${port}`,
    allowAddress: (address) => address === '127.0.0.1' || address === '::1'
  })
  const destination = new Destination(definition)
  const options = {
    apiKey: 'bench-key',
    eventMapping: 'Order Completed=0',
    postbackUrl: 'https://www.trkexample.com/?nid=123',
    subscription: {
      subscribe: 'type = "track"',
      partnerAction: 'trackConversion',
      mapping: defaultValues(definition.actions.trackConversion.fields)
    }
  }
  const events: SegmentEvent[] = Array.from({ length: 1000 }, (_, n) =>
    createTestEvent({
      type: 'track',
      event: 'Order Completed',
      messageId: `message-${n}`,
      timestamp: '2026-01-31T12:00:00.000Z',
      context: { referrer: { type: 'everflow', id: `click${n}` }, ip: '23.123.123.123' } as never,
      properties: { total: 76.5, orderId: `order-${n}`, adv1: 'adv1test' }
    })
  )
  const runBatches = async (count: number) => {
    for (let b = 0; b < count; b++) {
      await destination.onBatch(events, options)
      destination.responses.length = 0
    }
  }
  await runBatches(3)

  const session = new Session()
  session.connect()
  await post(session, 'Profiler.enable')
  await post(session, 'Profiler.start')
  await runBatches(20)
  const { profile } = await post<{ profile: Profile }>(session, 'Profiler.stop')
  child.kill()

  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const owner = ownerOf(byId.get(id)!.callFrame)
    totals.set(owner, (totals.get(owner) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const all = [...totals.values()].reduce((a, b) => a + b, 0)
  console.log('CPU time of 20 batches of 1,000 postbacks, by owner:')
  for (const [owner, time] of [...totals].sort((a, b) => b[1] - a[1])) {
    console.log(`${((100 * time) / all).toFixed(1).padStart(6)}%  ${owner}`)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
