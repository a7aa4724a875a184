// A stand-in for Everflow on 127.0.0.1, for trying the toolkit without an account (docs/toolkit.md). Not
// Everflow: it takes postbacks at / (answering OK) and answers the Network API calls the toolkit makes, reporting
// the postbacks it took as conversions, shaped as Everflow's API reference documents them.
//   npx ts-node --transpile-only scripts/fake-everflow.ts [port]   (0: any free port; the first line says which)
// then aim the toolkit at it with EVERFLOW_CLI_TEST_POSTBACK_ORIGIN and EVERFLOW_CLI_TEST_API_ORIGIN.
import http from 'http'
import type { AddressInfo } from 'net'

const port = Number(process.argv[2] ?? 8787)
const conversions = new Map<string, Array<Record<string, unknown>>>()

function json(response: http.ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

const server = http
  .createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/') {
      const id = url.searchParams.get('transaction_id') ?? ''
      const eventId = url.searchParams.get('adv_event_id')
      const list = conversions.get(id) ?? []
      list.push({
        conversion_id: `fake${String(list.length + 1).padStart(4, '0')}${id.slice(0, 24)}`,
        conversion_unix_timestamp: Math.floor(Date.now() / 1000),
        status: 'approved',
        sale_amount: Number(url.searchParams.get('amount') ?? 0),
        order_id: url.searchParams.get('order_id') ?? '',
        is_event: eventId !== null && eventId !== '0',
        event: eventId !== null && eventId !== '0' ? `advertiser event ${eventId}` : '',
        error_code: 0,
        error_message: '',
        transaction_id: id
      })
      conversions.set(id, list)
      response.end('OK')
      return
    }
    if (!request.headers['x-eflow-api-key']) return json(response, 401, { error: 'No Authentication Method Found' })
    if (url.pathname === '/v1/networks') return json(response, 200, { network_id: 123, name: 'Fake Network' })
    const lookup = /^\/v1\/networks\/reporting\/(transactions|events)\/([^/]+)$/.exec(url.pathname)
    if (!lookup) return json(response, 404, { error: 'Not found' })
    const [, kind, id] = lookup
    const recorded = conversions.get(id)
    if (!recorded) return json(response, 404, { error: 'Not found' })
    if (kind === 'events') return json(response, 200, { events: recorded.filter((c) => c.is_event) })
    return json(response, 200, {
      click: {
        transaction_id: id,
        unix_timestamp: (recorded[0].conversion_unix_timestamp as number) - 120,
        is_unique: 1
      },
      conversions: recorded.filter((c) => !c.is_event)
    })
  })
  .listen(port, '127.0.0.1', () =>
    console.error(`fake Everflow on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  )
