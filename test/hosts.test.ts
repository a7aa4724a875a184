// A Postback URL host that resolves to a private address (DNS pointing a public-looking name inside): refused by
// the settings check, and when a postback connects, through the destination as Segment runs it. The resolver is
// injected; no test touches real DNS.
import dns from 'dns'
import http from 'http'
import type { AddressInfo } from 'net'
import nock from 'nock'
import { createTestIntegration, Destination, IntegrationError, RetryableError } from '@segment/actions-core'
import productionDefinition, { createDestination } from '../src'
import { isPrivateAddress } from '../src/addresses'
import type { HostLookup } from '../src/addresses'
import { ConnectionGuard, PRIVATE_ADDRESS_REFUSED } from '../src/connection-guard'
import { checkPostbackHost, privateHostMessage } from '../src/hosts'
import { MAX_POSTBACKS_IN_FLIGHT } from '../src/trackConversion'
import {
  orderCompleted,
  PUBLIC_ADDRESS,
  settings,
  subscriptionTo,
  thrown,
  TRACKING_ORIGIN,
  TRANSACTION_ID
} from './support/helpers'
import { tally } from './support/tally'

afterEach(() => nock.cleanAll())

const PRIVATE_ADDRESSES = [
  '127.0.0.1',
  '127.255.255.254',
  '10.0.0.1',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '169.254.169.254',
  '169.254.0.1',
  '100.64.0.1',
  '100.127.255.255',
  '0.0.0.0',
  '::1',
  '::',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'febf::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  '0:0:0:0:0:ffff:a9fe:a9fe',
  '224.0.0.1',
  '255.255.255.255'
]
const PUBLIC_ADDRESSES = [
  PUBLIC_ADDRESS,
  '8.8.8.8',
  '172.32.0.1',
  '100.128.0.1',
  '169.255.0.1',
  '2606:4700::6810:84e5',
  '::ffff:8.8.8.8',
  '2001:4860:4860::8888'
]

describe('isPrivateAddress', () => {
  it.each(PRIVATE_ADDRESSES)('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true)
  })

  it.each(PUBLIC_ADDRESSES)('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false)
  })

  it.each(['www.trkexample.com', '', '1.2.3', '[::1]'])('%j, which is no address, is never a target', (text) => {
    expect(isPrivateAddress(text)).toBe(true)
  })
})

/** A resolver that answers from a table and counts its calls. */
function resolver(answers: Record<string, string[] | Error>) {
  const calls: string[] = []
  const lookup: HostLookup = (host) => {
    calls.push(host)
    const answer = answers[host]
    if (answer === undefined)
      return Promise.reject(Object.assign(new Error(`not found: ${host}`), { code: 'ENOTFOUND' }))
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
  }
  return { lookup, calls }
}

const HOST = new URL(TRACKING_ORIGIN).hostname

/**
 * A postback server on 127.0.0.1 that counts the connections it is asked for. Postbacks reach it as
 * http://www.trkexample.com:PORT: the guard resolves the name with the test's resolver when it connects.
 */
let server: http.Server
let connections = 0
let port: number
beforeAll(async () => {
  server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' })
    response.end('OK')
  })
  server.on('connection', () => connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  // The request must pass nock to reach the guard; nothing else may.
  nock.enableNetConnect((host) => host === `127.0.0.1:${port}` || host === `${HOST}:${port}` || host === `${HOST}:443`)
})
afterAll(async () => {
  nock.enableNetConnect('127.0.0.1')
  await new Promise((resolve) => server.close(resolve))
})
beforeEach(() => (connections = 0))

const isLoopback = (address: string) => address === '127.0.0.1'

/**
 * The destination as Segment runs it, its postbacks aimed at the counting server under the tracking domain's name;
 * `allowAddress` lets the server's own address through where a test needs a postback to arrive.
 */
function destinationResolving(lookup: HostLookup, allowAddress?: (address: string) => boolean) {
  const definition = createDestination({ lookup, allowAddress, postbackOrigin: `http://${HOST}:${port}` })
  return { destination: new Destination(definition), definition }
}

describe('when a postback connects', () => {
  it.each(PRIVATE_ADDRESSES)('refuses a host resolving to %s, connecting nowhere', async (address) => {
    tally('ssrf')
    const { destination, definition } = destinationResolving(resolver({ [HOST]: [PUBLIC_ADDRESS, address] }).lookup)
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), { ...settings, subscription: subscriptionTo(definition) })
    )
    expect(error).toBeInstanceOf(IntegrationError)
    expect([error.code, error.status]).toEqual(['INVALID_SETTINGS', 400])
    expect(error.message).toBe(
      `Postback URL host ${HOST} resolves to ${address}, a private or local address; postbacks go only to public addresses. ` +
        'Use your Everflow tracking domain (Control Center > Configuration > Global Postback). The postback was not sent.'
    )
    expect(connections).toBe(0)
  })

  it('refuses a host that was public when the settings were saved and is 127.0.0.1 when the postback connects', async () => {
    tally('ssrf')
    const answers = [[PUBLIC_ADDRESS], ['127.0.0.1']]
    const lookup: HostLookup = () => Promise.resolve(answers.shift() ?? [])
    // No address is let through here: the rebound answer must not reach the server listening on 127.0.0.1.
    const { definition } = destinationResolving(lookup)
    const testDestination = createTestIntegration(definition)
    const api = nock('https://api.eflow.team').get('/v1/networks').reply(200, { network_id: 123 })
    await testDestination.testAuthentication(settings)
    expect(api.isDone()).toBe(true)
    const error = await thrown(() =>
      testDestination.testAction('trackConversion', { event: orderCompleted(), settings, useDefaultMappings: true })
    )
    expect([error.constructor, error.code, error.status]).toEqual([IntegrationError, 'INVALID_SETTINGS', 400])
    expect(error.message).toContain(`Postback URL host ${HOST} resolves to 127.0.0.1, a private or local address`)
    expect(answers).toEqual([])
    expect(connections).toBe(0)
  })

  it('sends to a host that resolves to allowed addresses, keeping connections alive across events and batches', async () => {
    const { lookup, calls } = resolver({ [HOST]: ['127.0.0.1'] })
    const { destination, definition } = destinationResolving(lookup, isLoopback)
    const options = { ...settings, subscription: subscriptionTo(definition) }
    for (let i = 0; i < 3; i++) await destination.onEvent(orderCompleted(), options)
    expect(connections).toBe(1)
    const batch = async () =>
      (await destination.onBatch(
        Array.from({ length: 40 }, () => orderCompleted()),
        options
      )) as unknown as Array<{ multistatus: Array<{ status: number }> }>
    const [{ multistatus }] = await batch()
    expect(multistatus.map(({ status }) => status)).toEqual(Array(40).fill(200))
    const afterOneBatch = connections
    // Core destroys the agent it is given after each response; the shared agents ignore that, so the postbacks in
    // flight together keep their sockets and the next batch reuses them.
    expect(afterOneBatch).toBeLessThanOrEqual(MAX_POSTBACKS_IN_FLIGHT)
    await batch()
    expect(connections).toBe(afterOneBatch)
    // A lookup for each new connection, none for a reused one.
    expect(calls).toHaveLength(afterOneBatch)
  })

  it.each(['ENOTFOUND', 'EAI_AGAIN'])(
    'retries when the lookup fails when connecting (%s), naming the host, connecting nowhere',
    async (code) => {
      const failure = Object.assign(new Error(`getaddrinfo ${code}`), { code })
      const { destination, definition } = destinationResolving(resolver({ [HOST]: failure }).lookup)
      const error = await thrown(() =>
        destination.onEvent(orderCompleted(), { ...settings, subscription: subscriptionTo(definition) })
      )
      expect(error).toBeInstanceOf(RetryableError)
      expect(error.message).toBe(
        `Got no complete answer from Everflow at ${HOST} (${code}) for the conversion with transaction_id ${TRANSACTION_ID}. Segment will retry.`
      )
      expect(connections).toBe(0)
    }
  )

  it('retries when the host has no address of the family asked for, or none at all', async () => {
    const { destination, definition } = destinationResolving(resolver({ [HOST]: [] }).lookup)
    const error = await thrown(() =>
      destination.onEvent(orderCompleted(), { ...settings, subscription: subscriptionTo(definition) })
    )
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toContain(`(ENODATA)`)
  })

  it('refuses every event of a batch when the host is private, each with the same message', async () => {
    const { destination, definition } = destinationResolving(resolver({ [HOST]: ['10.1.2.3'] }).lookup)
    const [{ multistatus }] = (await destination.onBatch([orderCompleted(), orderCompleted()], {
      ...settings,
      subscription: subscriptionTo(definition)
    })) as unknown as Array<{ multistatus: Array<{ status: number; errormessage: string }> }>
    expect(multistatus.map(({ status }) => status)).toEqual([400, 400])
    expect(multistatus[1].errormessage).toContain(`${HOST} resolves to 10.1.2.3, a private or local address`)
    expect(connections).toBe(0)
  })
})

describe("the guard's lookup, as net calls it", () => {
  type Lookup = (host: string, options: object, callback: (...answer: unknown[]) => void) => void
  const guardLookup = (addresses: string[]) =>
    (
      new ConnectionGuard({ lookup: () => Promise.resolve(addresses) }).httpsAgent as unknown as {
        options: { lookup: Lookup }
      }
    ).options.lookup
  const ask = (lookup: Lookup, options: object) =>
    new Promise<unknown[]>((resolve) => lookup(HOST, options, (...answer) => resolve(answer)))

  it('answers every address with its family, or the first one of the family asked for', async () => {
    const lookup = guardLookup([PUBLIC_ADDRESS, '2606:4700::6810:84e5'])
    expect(await ask(lookup, { all: true })).toEqual([
      null,
      [
        { address: PUBLIC_ADDRESS, family: 4 },
        { address: '2606:4700::6810:84e5', family: 6 }
      ]
    ])
    expect(await ask(lookup, {})).toEqual([null, PUBLIC_ADDRESS, 4])
    expect(await ask(lookup, { family: 6 })).toEqual([null, '2606:4700::6810:84e5', 6])
  })

  it('fails with ENODATA when no address of the family asked for exists', async () => {
    const [error] = await ask(guardLookup([PUBLIC_ADDRESS]), { family: 6 })
    expect((error as { code?: string }).code).toBe('ENODATA')
  })

  it('remembers the refused address of the last 100 hosts at most, for the message', async () => {
    const guard = new ConnectionGuard({ lookup: () => Promise.resolve(['10.0.0.7']) })
    const lookup = (guard.httpsAgent as unknown as { options: { lookup: Lookup } }).options.lookup
    const refuse = (host: string) =>
      new Promise<unknown[]>((resolve) => lookup(host, {}, (...answer) => resolve(answer)))
    for (let n = 0; n < 100; n++) {
      const [error] = await refuse(`h${n}.example`)
      expect((error as { code?: string }).code).toBe(PRIVATE_ADDRESS_REFUSED)
    }
    expect([guard.refusedAddress('h0.example'), guard.refusedAddress('h99.example')]).toEqual(['10.0.0.7', '10.0.0.7'])
    await refuse('h100.example')
    // The 101st host starts the memory afresh: an older host's message then names no address.
    expect([guard.refusedAddress('h0.example'), guard.refusedAddress('h100.example')]).toEqual([undefined, '10.0.0.7'])
    expect(privateHostMessage('h0.example', guard.refusedAddress('h0.example'))).toMatch(
      /^Postback URL host h0\.example resolves to a private or local address; postbacks go only to public addresses\./
    )
  })
})

describe('the destination as Segment loads it', () => {
  it('sends through nock with no DNS at all: nock answers before any connection or lookup', async () => {
    const lookup = jest.spyOn(dns.promises, 'lookup').mockRejectedValue(new Error('a test tried to look up a host'))
    const postback = nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    const [response] = await createTestIntegration(productionDefinition).testAction('trackConversion', {
      event: orderCompleted(),
      settings,
      useDefaultMappings: true
    })
    expect(response.status).toBe(200)
    expect(postback.isDone()).toBe(true)
    expect(lookup).not.toHaveBeenCalled()
  })

  it("resolves with Node's resolver when connecting, every address of the host", async () => {
    const lookup = jest.spyOn(dns.promises, 'lookup').mockResolvedValueOnce([
      { address: PUBLIC_ADDRESS, family: 4 },
      { address: 'fd00::2', family: 6 }
    ] as never)
    const error = await thrown(() =>
      new Destination(productionDefinition).onEvent(orderCompleted(), {
        ...settings,
        subscription: subscriptionTo(productionDefinition)
      })
    )
    expect(lookup).toHaveBeenCalledWith(HOST, { all: true, verbatim: true })
    expect(error.message).toContain(`${HOST} resolves to fd00::2, a private or local address`)
  })
})

describe('in the settings check', () => {
  /** What a user sees when saving the settings: core's testAuthentication wraps the error. */
  async function saving(answers: Record<string, string[] | Error>) {
    return savingWith(resolver(answers).lookup)
  }

  async function savingWith(lookup: HostLookup) {
    const definition = createDestination({ lookup })
    const api = nock('https://api.eflow.team').get('/v1/networks').reply(200, { network_id: 123 })
    const error = await thrown(() => createTestIntegration(definition).testAuthentication(settings))
    expect(api.isDone()).toBe(false)
    return error.message
  }

  it('refuses a host that resolves to a private address, before asking Everflow about the key', async () => {
    expect(await saving({ [HOST]: ['169.254.169.254'] })).toBe(
      `Credentials are invalid:  Postback URL host ${HOST} resolves to 169.254.169.254, a private or local address; ` +
        'postbacks go only to public addresses. Use your Everflow tracking domain (Control Center > Configuration > Global Postback).'
    )
  })

  it('refuses a host that does not exist', async () => {
    expect(await saving({})).toBe(
      `Credentials are invalid:  Postback URL host ${HOST} does not exist in DNS (ENOTFOUND). ` +
        'Check the tracking domain in Everflow (Control Center > Configuration > Global Postback).'
    )
  })

  it('refuses a host with no address', async () => {
    expect(await saving({ [HOST]: [] })).toBe(
      `Credentials are invalid:  Postback URL host ${HOST} does not exist in DNS (ENODATA). ` +
        'Check the tracking domain in Everflow (Control Center > Configuration > Global Postback).'
    )
  })

  it('says "lookup failed" when the resolver fails with an error that has neither code nor name', async () => {
    expect(await savingWith(() => Promise.reject(Object.assign(new Error('no'), { name: undefined })))).toContain(
      `Postback URL host ${HOST} could not be looked up (lookup failed); this says nothing about the settings.`
    )
  })

  it('gives a lookup that failed for now the code POSTBACK_HOST_LOOKUP_FAILED and status 503, not a settings error', async () => {
    const lookup = () => Promise.reject(Object.assign(new Error('t'), { code: 'EAI_AGAIN' }))
    await expect(checkPostbackHost('a.example.com', lookup)).rejects.toMatchObject({
      code: 'POSTBACK_HOST_LOOKUP_FAILED',
      status: 503
    })
  })

  it('says a lookup that failed for now says nothing about the settings', async () => {
    expect(await saving({ [HOST]: Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' }) })).toContain(
      `Postback URL host ${HOST} could not be looked up (EAI_AGAIN); this says nothing about the settings.`
    )
  })

  it('passes a public host on to the key check', async () => {
    const definition = createDestination({ lookup: resolver({ [HOST]: [PUBLIC_ADDRESS] }).lookup })
    const api = nock('https://api.eflow.team').get('/v1/networks').reply(200, { network_id: 123 })
    await createTestIntegration(definition).testAuthentication(settings)
    expect(api.isDone()).toBe(true)
  })
})
