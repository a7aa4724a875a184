// The package as someone else gets it: `npm pack` (prepack builds dist/ first), the tarball installed into an
// empty project outside this repository (no overrides, nothing else of this repository) with the nock the README
// names, required as CommonJS and driven there with core's createTestIntegration and nock: the README's own code
// blocks verbatim, then trackConversion, a batch and testAuthentication. Every script runs on a Node whose
// resolver refuses all lookups, as on a machine with no DNS.
// Slow on purpose (a build and an npm install from the local cache): about 30-60 s.
import { spawnSync } from 'child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'

const ROOT = path.join(__dirname, '..')

// Runs in the consumer project with plain node. It prints what happened as JSON; the assertions are below.
const CONSUMER_SCRIPT = `
const assert = require('assert')
const nock = require('nock')
const { createTestIntegration, createTestEvent } = require('@segment/actions-core')
const destination = require('everflow-actions-destination').default

const { createDestination } = require('everflow-actions-destination')

nock.disableNetConnect()

const settings = {
  apiKey: 'consumer-api-key',
  eventMapping: 'Order Completed=0',
  postbackUrl: 'https://www.trkexample.com/?nid=123&transaction_id={transaction_id}'
}
const event = (id, total) =>
  createTestEvent({
    type: 'track',
    event: 'Order Completed',
    messageId: 'message-' + id,
    timestamp: '2026-01-31T12:00:00.000Z',
    context: { referrer: { type: 'everflow', id: 'click-' + id } },
    properties: { total, orderId: 'order-' + id }
  })
const postback = (id, amount) =>
  nock('https://www.trkexample.com')
    .get('/')
    .query({ nid: '123', transaction_id: 'click-' + id, amount, order_id: 'order-' + id, timestamp: '1769860800' })
    .reply(200, 'OK')

async function main() {
  const integration = createTestIntegration(destination)
  const result = {
    name: destination.name,
    packageFile: require.resolve('everflow-actions-destination'),
    ajvFastUri: require(require.resolve('fast-uri/package.json', { paths: [require.resolve('ajv')] })).version
  }

  postback(1, '76')
  const [single] = await integration.testAction('trackConversion', { event: event(1, 76), settings, useDefaultMappings: true })
  result.single = { status: single.status, url: single.url }

  postback(2, '10.5')
  postback(3, '20')
  const batch = await integration.testBatchAction('trackConversion', {
    events: [event(2, 10.5), event(3, 20)],
    settings,
    useDefaultMappings: true
  })
  // Postbacks of a batch go out concurrently: order by URL.
  result.batch = batch.map((response) => ({ status: response.status, url: response.url })).sort((a, b) => a.url.localeCompare(b.url))
  result.multistatus = integration.results.at(-1).multistatus.map((entry) => entry.status)

  // The settings check looks the Postback URL host up: offline, the caller's resolver answers.
  nock('https://api.eflow.team', { reqheaders: { 'x-eflow-api-key': 'consumer-api-key' } })
    .get('/v1/networks')
    .reply(200, { network_id: 123 })
  await createTestIntegration(createDestination({ lookup: async () => ['93.184.215.14'] })).testAuthentication(settings)
  result.authentication = 'passed'

  result.pendingMocks = nock.pendingMocks()
  console.log(JSON.stringify(result))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
`

// Loaded first (node -r) in the consumer project: a machine with no DNS. Address literals are not lookups.
const NO_DNS = `
const dns = require('dns')
const { isIP } = require('net')
const refuse = (host) => Object.assign(new Error('getaddrinfo ENOTFOUND ' + host + ' (no DNS here)'), { code: 'ENOTFOUND' })
const lookup = dns.lookup
dns.lookup = (host, ...rest) => {
  if (isIP(host)) return lookup(host, ...rest)
  const callback = rest[rest.length - 1]
  process.nextTick(() => callback(refuse(host)))
}
dns.promises.lookup = async (host) => { throw refuse(host) }
`

const README = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
const LIBRARY_SECTION = README.slice(
  README.indexOf('## Use it as a library'),
  README.indexOf('\n## ', README.indexOf('## Use it as a library') + 1)
)
/** The js code blocks of the README's library section, each with what its last comment line says it prints. */
const README_EXAMPLES = [...LIBRARY_SECTION.matchAll(/```js\n([\s\S]*?)```/g)].map(([, code]) => ({
  code,
  prints: /\/\/ (.*)\n$/.exec(code)![1]
}))
/** What the README tells people to install, the tarball put in place of its file name. */
const README_INSTALL = /^npm install (.*)$/m.exec(LIBRARY_SECTION)![1].split(' ')

let consumer: string
let startedAt: number

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' }
  })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

beforeAll(() => {
  startedAt = Date.now()
  consumer = mkdtempSync(path.join(tmpdir(), 'everflow-consumer-'))
  run('npm', ['pack', '--pack-destination', consumer], ROOT)
  const [tarball] = readdirSync(consumer).filter((file) => file.endsWith('.tgz'))
  writeFileSync(
    path.join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true })
  )
  const packages = README_INSTALL.map((spec) => (spec.endsWith('.tgz') ? `./${tarball}` : spec))
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...packages], consumer)
  writeFileSync(path.join(consumer, 'consumer.js'), CONSUMER_SCRIPT)
  writeFileSync(path.join(consumer, 'no-dns.js'), NO_DNS)
  README_EXAMPLES.forEach(({ code }, index) => writeFileSync(path.join(consumer, `readme-${index + 1}.js`), code))
}, 240_000)

afterAll(() => {
  if (consumer) rmSync(consumer, { recursive: true, force: true })
})

describe('the packed package, installed into an empty project', () => {
  it('was built by prepack while packing', () => {
    expect(statSync(path.join(ROOT, 'dist', 'index.js')).mtimeMs).toBeGreaterThanOrEqual(startedAt - 1000)
  })

  it('holds dist and examples, and no sources or tests', () => {
    const listing = run('tar', ['-tzf', readdirSync(consumer).find((file) => file.endsWith('.tgz'))!], consumer)
    const files = listing.split('\n').filter(Boolean)
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/dist/trackConversion/postback.d.ts',
        'package/examples/settings.json',
        'package/README.md',
        'package/package.json'
      ])
    )
    expect(files.filter((file) => /^package\/(src|test|bench|scripts)\//.test(file))).toEqual([])
  })

  it('installs the toolkit as the everflow-toolkit command (bin), with the same help text', () => {
    const command = path.join(consumer, 'node_modules', '.bin', 'everflow-toolkit')
    expect(run(command, ['--help'], consumer)).toContain('Usage: everflow-toolkit [command] [options]')
    expect(run(command, [], consumer)).toContain('line 1 (Order Completed): dry-run')
  })

  it("installs the nock the README names, and it is the one the README's examples load", () => {
    expect(README_INSTALL).toEqual(['./everflow-actions-destination-0.1.0.tgz', 'nock@13.5.6'])
    expect(run(process.execPath, ['-p', "require('nock/package.json').version"], consumer).trim()).toBe('13.5.6')
  })

  it('has no DNS: a lookup of a name fails in the consumer project', () => {
    const script = "require('dns').promises.lookup('www.trkexample.com').catch((e) => console.log(e.code))"
    expect(run(process.execPath, ['-r', './no-dns.js', '-e', script], consumer).trim()).toBe('ENOTFOUND')
  })

  it("prints what the README says for each of the README's library examples, run verbatim", () => {
    expect(README_EXAMPLES).toHaveLength(2)
    for (const [index, { prints }] of README_EXAMPLES.entries()) {
      expect(run(process.execPath, ['-r', './no-dns.js', `readme-${index + 1}.js`], consumer).trim()).toBe(prints)
    }
  })

  it('runs trackConversion, a batch and testAuthentication when required as CommonJS', () => {
    const result = JSON.parse(run(process.execPath, ['-r', './no-dns.js', 'consumer.js'], consumer)) as Record<
      string,
      unknown
    >
    expect(result).toEqual({
      name: 'Everflow (Actions)',
      packageFile: path.join(consumer, 'node_modules', 'everflow-actions-destination', 'dist', 'index.js'),
      // The exact fast-uri dependency is hoisted and is what ajv resolves: newer ones reject the schema key.
      ajvFastUri: '3.1.5',
      single: {
        status: 200,
        url: 'https://www.trkexample.com/?nid=123&transaction_id=click-1&amount=76&order_id=order-1&timestamp=1769860800'
      },
      batch: [
        {
          status: 200,
          url: 'https://www.trkexample.com/?nid=123&transaction_id=click-2&amount=10.5&order_id=order-2&timestamp=1769860800'
        },
        {
          status: 200,
          url: 'https://www.trkexample.com/?nid=123&transaction_id=click-3&amount=20&order_id=order-3&timestamp=1769860800'
        }
      ],
      multistatus: [200, 200],
      authentication: 'passed',
      pendingMocks: []
    })
  })
})
