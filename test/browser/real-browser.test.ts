// From the affiliate's click to Everflow's postback, in a real browser: Chromium from @sparticuz/chromium driven by
// puppeteer-core (both npm packages: `npm ci` brings the browser, nothing is downloaded or installed apart). A
// server on 127.0.0.1 serves pages that load analytics-next with the Everflow plugin built from src/browser
// (bundled by esbuild into a temporary folder when this file starts) and receives what analytics-next sends.
// The Order Completed event it receives is then run through the cloud destination, with nock as Everflow.
import { spawnSync } from 'child_process'
import dns from 'dns'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'fs'
import { createServer } from 'http'
import type { IncomingMessage, Server, ServerResponse } from 'http'
import type { AddressInfo } from 'net'
import { tmpdir } from 'os'
import path from 'path'
import { build } from 'esbuild'
import nock from 'nock'
import puppeteer from 'puppeteer-core'
import type { Browser, BrowserContext, Page } from 'puppeteer-core'
import { createTestIntegration } from '@segment/actions-core'
import type { SegmentEvent } from '@segment/actions-core'
import destination from '../../src'
import type { Settings as PluginSettings } from '../../src/browser/generated-types'
import { STORAGE_KEY } from '../../src/browser/click-id'
import { PUBLIC_ADDRESS, queryOf, settings, TRACKING_ORIGIN } from '../support/helpers'

const CLICK = '0f9c3e2a4b5d6e7f8a9b0c1d2e3f4a5b'
const SDK_CLICK = 'ffeeddccbbaa99887766554433221100'
const DAY = 86_400_000

jest.setTimeout(60_000)

interface Received {
  path: string
  body: SegmentEvent & { writeKey?: string }
}

let browser: Browser
let server: Server
let origin: string
let port: number
let bundle: string
let userDataDir: string
let pageSettings: PluginSettings = {}
let pageSdk = ''
const received: Received[] = []

/** The test pages: the bundle, then (when a test wants it) a stand-in for Everflow's SDK, then analytics. */
function html(): string {
  const sdk = pageSdk ? `<script>${pageSdk}</script>` : ''
  return `<!doctype html><html><head><link rel="icon" href="data:,"><script src="/bundle.js"></script>${sdk}
<script>window.ready = window.startAnalytics(${JSON.stringify(pageSettings)})</script></head><body>shop</body></html>`
}

function handle(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? '/', origin)
  if (request.method === 'POST' && url.pathname.startsWith('/v1/')) {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      received.push({ path: url.pathname, body: JSON.parse(body) })
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}')
    })
    return
  }
  if (url.pathname === '/bundle.js') {
    response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    return
  }
  response.writeHead(200, { 'content-type': 'text/html' }).end(html())
}

/**
 * The Chromium binary of the pinned @sparticuz/chromium. It unpacks into os.tmpdir()/chromium and reuses whatever
 * binary is already there, so it unpacks into a folder named after its version (another version's binary left in
 * /tmp is never launched in its place). In a child process: jest hands tests a copy of process.env, which Node's
 * os.tmpdir() does not read.
 */
function unpackedChromium(): string {
  const { devDependencies } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>
  }
  const folder = path.join(tmpdir(), `everflow-sparticuz-chromium-${devDependencies['@sparticuz/chromium']}`)
  mkdirSync(folder, { recursive: true })
  const unpack = spawnSync(
    process.execPath,
    ['-e', "require('@sparticuz/chromium').executablePath().then((file) => process.stdout.write(file))"],
    { cwd: __dirname, env: { ...process.env, TMPDIR: folder }, encoding: 'utf8' }
  )
  expect(unpack.stderr).toBe('')
  expect(unpack.stdout).toBe(path.join(folder, 'chromium'))
  return unpack.stdout
}

beforeAll(async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'everflow-page-'))
  try {
    await build({
      entryPoints: [path.join(__dirname, 'page', 'entry.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      outfile: path.join(out, 'bundle.js'),
      logLevel: 'silent'
    }).then((result) => expect(result.errors).toEqual([]))
    bundle = readFileSync(path.join(out, 'bundle.js'), 'utf8')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }

  server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
  origin = `http://127.0.0.1:${port}`

  userDataDir = mkdtempSync(path.join(tmpdir(), 'everflow-chromium-'))
  browser = await puppeteer.launch({
    executablePath: unpackedChromium(),
    // A pipe, not a WebSocket: no connection for nock to refuse, no port to open.
    pipe: true,
    headless: true,
    userDataDir,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // www.example.test and shop.example.test are this server, for the test of the shared top-domain cookie.
      '--host-resolver-rules=MAP *.example.test 127.0.0.1'
    ]
  })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true })
})

let context: BrowserContext
let page: Page
let requested: string[]

beforeEach(async () => {
  received.length = 0
  pageSettings = {}
  pageSdk = ''
  // A fresh context per test: no cookie or localStorage from another test.
  context = await browser.createBrowserContext()
  page = await context.newPage()
  requested = []
  page.on('request', (request) => requested.push(request.url()))
})

afterEach(async () => {
  await context?.close()
  nock.cleanAll()
})

/** A new page load of `url` (relative to the 127.0.0.1 server unless absolute), once analytics has loaded. */
async function visit(url: string) {
  await page.goto(new URL(url, origin).toString())
  await page.evaluate(() => (window as unknown as { ready: Promise<void> }).ready)
}

/** analytics.track('Order Completed', ...) on the current page; resolves with the event analytics-next sent. */
async function orderCompleted(extraContext: Record<string, unknown> = {}): Promise<SegmentEvent> {
  const before = received.length
  await page.evaluate(
    (context) =>
      (window as unknown as { analytics: import('@segment/analytics-next').Analytics }).analytics.track(
        'Order Completed',
        { total: 76, orderId: '123456789' },
        { context }
      ),
    extraContext
  )
  for (let waited = 0; waited < 5000; waited += 50) {
    const sent = received.slice(before).find(({ path, body }) => path === '/v1/t' && body.event === 'Order Completed')
    if (sent) return sent.body
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`analytics-next sent no Order Completed to /v1/t; received ${JSON.stringify(received)}`)
}

/** Every request the page made went to the page's own server: nothing else leaves the page. */
function expectOnlyOwnServer(origins: string[] = [origin]) {
  expect(requested.length).toBeGreaterThan(0)
  for (const url of requested) expect(origins).toContain(new URL(url).origin)
}

describe('a real browser (Chromium from @sparticuz/chromium) with analytics-next and the plugin', () => {
  it('lands from a tracking link, orders on a later page, and the cloud destination posts back that click', async () => {
    await visit(`/landing?_ef_transaction_id=${CLICK}`)
    await visit('/checkout')
    const event = await orderCompleted()

    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
    expect(event.type).toBe('track')
    expect(event.properties).toEqual({ total: 76, orderId: '123456789' })
    expectOnlyOwnServer()

    // The very event analytics-next sent, through the cloud destination (its default export) to Everflow.
    jest.spyOn(dns.promises, 'lookup').mockResolvedValue([{ address: PUBLIC_ADDRESS, family: 4 }] as never)
    nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    const responses = await createTestIntegration(destination).testAction('trackConversion', {
      event,
      settings,
      useDefaultMappings: true
    })
    expect(responses).toHaveLength(1)
    const query = Object.fromEntries(queryOf(responses[0].url))
    expect(query).toMatchObject({ nid: '123', transaction_id: CLICK, amount: '76', order_id: '123456789' })
  })

  it('keeps the click in a first-party cookie for the attribution window', async () => {
    pageSettings = { attributionWindowDays: 7 }
    await visit(`/landing?_ef_transaction_id=${CLICK}`)
    const [cookie] = (await page.cookies()).filter(({ name }) => name === STORAGE_KEY)
    expect(cookie.value).toMatch(new RegExp(`^${CLICK}\\.\\d+$`))
    expect(cookie.sameSite).toBe('Lax')
    expect(cookie.expires * 1000 - Date.now()).toBeGreaterThan(7 * DAY - 60_000)
    expect(cookie.expires * 1000 - Date.now()).toBeLessThanOrEqual(7 * DAY)
  })

  it('shares the click between www. and shop. of a domain (the cookie is on the top domain)', async () => {
    await visit(`http://www.example.test:${port}/landing?_ef_transaction_id=${CLICK}`)
    await visit(`http://shop.example.test:${port}/checkout`)
    const event = await orderCompleted()
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: CLICK })
    expectOnlyOwnServer([`http://www.example.test:${port}`, `http://shop.example.test:${port}`])
  })

  it('adds no referrer after a landing without the parameter and no earlier click', async () => {
    await visit('/landing?utm_source=newsletter')
    await visit('/checkout')
    const event = await orderCompleted()
    expect(event.context?.referrer).toBeUndefined()
  })

  it('leaves an event with a referrer of its own as it is', async () => {
    await visit(`/landing?_ef_transaction_id=${CLICK}`)
    await visit('/checkout')
    const own = { type: 'everflow', id: SDK_CLICK }
    const event = await orderCompleted({ referrer: own })
    expect(event.context?.referrer).toEqual(own)
  })

  it('does not use a click older than the attribution window', async () => {
    pageSettings = { attributionWindowDays: 1 }
    await page.setCookie({ url: origin, name: STORAGE_KEY, value: `${CLICK}.${Date.now() - 2 * DAY}` })
    await visit('/checkout')
    const event = await orderCompleted()
    expect(event.context?.referrer).toBeUndefined()
  })

  it("gives the answer of Everflow's SDK on the page (a stand-in EF) for the advertiser in the settings", async () => {
    // A stand-in shaped as Everflow's SDK docs describe the global EF; like the SDK it reads its own first-party
    // cookie ef_tid_c_a_<advertiser id> (clicks separated by |, the last one counts).
    pageSdk = `window.EF = {
      urlParameter: function (name) { return new URLSearchParams(location.search).get(name) || '' },
      getAdvertiserTransactionId: function (advertiserId) {
        var match = document.cookie.match(new RegExp('(?:^|; )ef_tid_c_a_' + advertiserId + '=([^;]*)'))
        return match ? decodeURIComponent(match[1]).split('|').pop() : ''
      }
    }`
    pageSettings = { advertiserId: '7' }
    await page.setCookie({ url: origin, name: 'ef_tid_c_a_7', value: `${CLICK}|${SDK_CLICK}` })
    await visit('/checkout')
    const event = await orderCompleted()
    expect(event.context?.referrer).toEqual({ type: 'everflow', id: SDK_CLICK })
  })
})
