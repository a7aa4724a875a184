// The catalog page's generated parts come from the definition; a page with stale parts is detected.
import { readFileSync } from 'fs'
import path from 'path'
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import definition, { createDestination } from '../src'
import type { Settings } from '../src/generated-types'
import { redactUrl, secretsOf } from '../src/secrets'
import { publicLookup } from './support/helpers'
import { toolkit } from './toolkit/support'
import { describeMapping, generatedParts, render } from '../scripts/generate-docs'

const page = readFileSync(path.join(__dirname, '..', 'docs', 'everflow-actions.md'), 'utf8')

describe('docs/everflow-actions.md', () => {
  it('lists every setting and field of the definition', () => {
    const keys = [
      ...Object.keys(definition.authentication?.fields ?? {}),
      ...Object.keys(definition.actions.trackConversion.fields)
    ]
    // Some of them by name, so an empty definition cannot pass.
    expect(keys).toEqual(expect.arrayContaining(['apiKey', 'postbackUrl', 'transaction_id', 'batch_size']))
    for (const key of keys) expect([key, page.includes(`\`${key}\``)]).toEqual([key, true])
    expect(page).toContain('## Migrating from the classic Everflow destination')
  })

  it('says in the migration section that Engage audiences and computed traits (identify calls) are not sent, and what to do', () => {
    const section = page.slice(page.indexOf('### What the classic destination took and this one does not'))
    expect(section).toContain('Engage sends **audiences and\ncomputed traits**')
    expect(section).toContain('Everflow has no user-profile API')
    expect(section).toContain('as **track events**')
    expect(section).toContain('`type = "track" and event = "Audience Entered"`')
  })

  it('shows what the definition says: every generated block as the definition renders it now', () => {
    // npm run check compares the page byte for byte, after prettier, in its own process; this runs in-process,
    // so that a changed label, description, default or preset fails here too. Prettier pads table cells and
    // rulers, so runs of spaces and dashes are folded.
    const folded = (text: string) =>
      text
        .replace(/\s+/g, ' ')
        .replace(/ ?-{3,} ?/g, '---')
        .trim()
    const blockOf = (name: string) =>
      page.slice(page.indexOf(`<!-- generated: ${name} -->`), page.indexOf(`<!-- end generated: ${name} -->`))
    for (const [name, content] of Object.entries(generatedParts())) {
      expect([name, folded(blockOf(name))]).toEqual([name, folded(`<!-- generated: ${name} -->\n\n${content}`)])
    }
  })

  it('render replaces a stale generated block and keeps the hand-written text', () => {
    const stale = 'intro\n<!-- generated: fields -->\nold table\n<!-- end generated: fields -->\noutro\n'
    const fresh = render(stale, { fields: generatedParts().fields })
    expect(fresh).not.toContain('old table')
    expect(fresh).toContain(
      '| Transaction ID | `transaction_id` | string | yes (checked by the action) | `context.referrer.id` |'
    )
    expect(fresh.startsWith('intro\n')).toBe(true)
    expect(fresh.endsWith('outro\n')).toBe(true)
  })

  it('lists the postback parameters in the order the builder sends them, with where each comes from', () => {
    const rows = generatedParts()
      .parameters.split('\n')
      .slice(2)
      .map((row) => row.split(' | ').slice(0, 2).join(' | '))
    expect(rows).toEqual([
      '| `nid` | settings',
      '| `transaction_id` | `transaction_id` (`context.referrer.id`)',
      '| not sent | `referrer_type` (`context.referrer.type`)',
      '| `adv_event_id` | `event_name` (`event`)',
      '| `amount` | `amount` (`properties.total`, else `properties.revenue`)',
      '| `order_id` | `order_id` (`properties.orderId`, else `properties.order_id`)',
      '| `user_ip` | `user_ip` (`context.ip`)',
      '| `adv1` | `adv1` (`properties.adv1`)',
      '| `adv2` | `adv2` (`properties.adv2`)',
      '| `adv3` | `adv3` (`properties.adv3`)',
      '| `adv4` | `adv4` (`properties.adv4`)',
      '| `adv5` | `adv5` (`properties.adv5`)',
      '| `coupon_code` | `coupon_code` (`properties.coupon`)',
      '| `oid` | `offer_id` (none)',
      '| `email` | `email` (`context.traits.email`, else `properties.email`)',
      '| `currency` | `currency` (`properties.currency`)',
      '| `timestamp` | `timestamp` (`timestamp`)',
      '| not sent | `clickless_coupons` (`false`)',
      '| `verification_token` | settings',
      '| each name of `custom_parameters` | `custom_parameters` (none)'
    ])
    expect(page).toContain('| `verification_token`')
  })

  it('render refuses a page without the block', () => {
    expect(() => render('no markers here', { fields: 'x' })).toThrow('has no <!-- generated: fields -->')
  })

  it('describes default mappings as a reader would say them', () => {
    expect(describeMapping({ '@path': '$.context.ip' })).toBe('`context.ip`')
    expect(
      describeMapping({
        '@if': {
          exists: { '@path': '$.properties.total' },
          then: { '@path': '$.properties.total' },
          else: { '@path': '$.properties.revenue' }
        }
      })
    ).toBe('`properties.total`, else `properties.revenue`')
    expect(describeMapping(true)).toBe('`true`')
    expect(describeMapping(undefined)).toBe('none')
  })
})

describe('figures quoted in docs/', () => {
  const read = (file: string) => readFileSync(path.join(__dirname, '..', file), 'utf8')

  it('performance.md: the ratios on the bench line are those of the rows of the same run, and the targets quote them', () => {
    const performance = read('docs/performance.md')
    const run = /```\nbuilder [\s\S]*?\nbench: .*\n```/.exec(performance)?.[0] ?? ''
    const rate = (row: string) =>
      Number(
        new RegExp(`^${row.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+([0-9,]+) events/s`, 'm')
          .exec(run)?.[1]
          ?.replace(/,/g, '')
      )
    const line = Object.fromEntries(
      (/^bench: (.*)$/m.exec(run)?.[1] ?? '').split(' ').map((pair) => pair.split('=') as [string, string])
    )
    const batches = rate('batches of 1,000')
    const single32 = rate('single events, concurrency 32')
    const client = rate('framework request client alone, concurrency 16')
    const wire16 = rate('wire floor, concurrency 16')
    const wire32 = rate('wire floor, concurrency 32')
    const rssGrowth = Number(/^peak RSS growth over the next 90,000\s+([0-9.]+) MB/m.exec(run)?.[1])
    const toolkit = (figure: string) => new RegExp(`^toolkit .*\\(${figure}\\)\\s+([0-9.]+)$`, 'm').exec(run)?.[1]
    expect(line).toEqual({
      'batch/wire': (batches / wire16).toFixed(2),
      'single32/wire': (single32 / wire32).toFixed(2),
      'action/framework': expect.stringMatching(/^[0-9]+\.[0-9]{2}$/),
      rss_growth_mb: String(Math.round(rssGrowth)),
      'batch/client': (batches / client).toFixed(2),
      'client/wire': (client / wire16).toFixed(2),
      'cli_dry/framework': toolkit('cli_dry/framework'),
      'backfill/batch': toolkit('backfill/batch')
    })
    for (const [target, figure] of [
      ['action/framework <= 1.15', line['action/framework']],
      ['rss_growth_mb <= 50', line.rss_growth_mb],
      ['batch/wire >= 0.8', line['batch/wire']],
      ['single32/wire >= 0.6', line['single32/wire']],
      ['batch/client >= 0.7', line['batch/client']],
      ['cli_dry/framework >= 0.5', line['cli_dry/framework']],
      ['backfill/batch >= 0.9', line['backfill/batch']]
    ]) {
      expect(performance).toMatch(
        new RegExp(`^\\| ${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} +\\| ${figure.replace('.', '\\.')}\\b`, 'm')
      )
    }
  })

  it('hardening.md: the fuzz figure is what the fuzz test runs (its default runs for each property)', () => {
    const fuzz = read('test/fuzz.test.ts')
    const runs = Number(/FUZZ_RUNS \?\? ([0-9_]+)/.exec(fuzz)?.[1]?.replace(/_/g, ''))
    const properties = fuzz.match(/^\s+check\(/gm)?.length ?? 0
    expect([runs, properties]).toEqual([10_000, 5])
    expect(read('docs/hardening.md')).toMatch(
      new RegExp(
        `^hardening: faults=[0-9]+ cases, fuzz=${runs * properties} inputs, ssrf=[0-9]+ urls, misclassified=0, leaks=0$`,
        'm'
      )
    )
  })
})

describe('README.md', () => {
  // The README showed the example's postback without currency=USD, which is sent.
  it('shows the postback the example event and settings really give, as the toolkit shows it', async () => {
    const root = path.join(__dirname, '..')
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
    const read = (file: string) => JSON.parse(readFileSync(path.join(root, 'examples', file), 'utf8')) as never
    const settings = read('settings.json') as Settings
    nock('https://www.trkexample.com').get('/').query(true).reply(200, 'OK')
    const [response] = await createTestIntegration(createDestination({ lookup: publicLookup })).testAction(
      'trackConversion',
      { event: read('order-completed.json'), settings, useDefaultMappings: true }
    )
    expect(nock.isDone()).toBe(true)
    const shown = redactUrl(response.url, secretsOf(settings))
    expect(shown).toContain('&currency=USD&')
    expect(readme).toContain(`\`GET ${shown}\``)
  })

  it("shows the quick start as the toolkit prints it: stderr's settings line, stdout, then the summary on stderr", async () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
    const command = '$ npm start -- --event examples/events.ndjson\n'
    expect(readme).toContain(command)
    const shown = readme.slice(readme.indexOf(command) + command.length)
    const run = await toolkit(['--event', path.join(__dirname, '..', 'examples', 'events.ndjson')])
    expect(run.code).toBe(1)
    const [settingsLine, ...summary] = run.stderr.split('\n')
    expect(shown.slice(0, shown.indexOf('```'))).toBe(`${settingsLine}\n${run.stdout}${summary.join('\n')}`)
  })
})

describe('the repository', () => {
  const root = path.join(__dirname, '..')

  it('has the LICENSE that package.json names (npm pack ships it)', () => {
    const { license } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { license: string }
    expect(license).toBe('MIT')
    const text = readFileSync(path.join(root, 'LICENSE'), 'utf8')
    expect(text.startsWith('MIT License\n\nCopyright (c) 2026 Everflow destination contributors\n')).toBe(true)
  })

  it('ignores the tarball npm pack leaves in its root', () => {
    expect(readFileSync(path.join(root, '.gitignore'), 'utf8').split('\n')).toContain('*.tgz')
  })
})
