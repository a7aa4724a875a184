// npm run docs: writes the generated parts of docs/everflow-actions.md and README.md (settings, fields, postback
// parameters, presets) from the destination definition. `--check` writes nothing and fails when a page is stale;
// npm test runs it.
import { readFileSync, writeFileSync } from 'fs'
import path from 'path'
import { defaultValues } from '@segment/actions-core'
import type { GlobalSetting, InputField } from '@segment/actions-core'
import destination from '../src'
import { destination as pluginDestination } from '../src/browser'
import { CHECKED_BY_THE_ACTION } from '../src/trackConversion/fields'
import { POSTBACK_PARAMETERS, RESERVED_PARAMETERS } from '../src/trackConversion/postback'

const ROOT = path.join(__dirname, '..')
/** The pages with generated parts, and which parts each holds. */
const PAGES: Record<string, string[]> = {
  'docs/everflow-actions.md': [
    'plugin-settings',
    'plugin-action',
    'settings',
    'action',
    'fields',
    'parameters',
    'presets',
    'refundAction',
    'refundFields'
  ],
  'README.md': ['parameters']
}

/** Makes text safe inside a Markdown table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** A default mapping as a reader would say it: `properties.total`, else `properties.revenue`. */
export function describeMapping(value: unknown): string {
  if (value === undefined) return 'none'
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const directive = value as Record<string, unknown>
    if (typeof directive['@path'] === 'string') return `\`${directive['@path'].replace(/^\$\./, '')}\``
    const condition = directive['@if'] as { exists?: unknown; then?: unknown; else?: unknown } | undefined
    if (condition) return `${describeMapping(condition.then)}, else ${describeMapping(condition.else)}`
  }
  return `\`${JSON.stringify(value)}\``
}

function settingsTable(fields: Record<string, GlobalSetting>): string {
  const rows = Object.entries(fields).map(([key, field]) => {
    const choices = field.choices?.map((choice) => (typeof choice === 'string' ? choice : choice.value)).join(', ')
    const type = choices ? `${field.type} (${choices})` : field.type
    const fallback = field.default === undefined ? '' : `\`${JSON.stringify(field.default)}\``
    return `| ${field.label} | \`${key}\` | ${type} | ${field.required ? 'yes' : 'no'} | ${fallback} | ${cell(field.description)} |`
  })
  return ['| Setting | Key | Type | Required | Default | Description |', '|---|---|---|---|---|---|', ...rows].join(
    '\n'
  )
}

function requirement(key: string, field: InputField, checked: ReadonlySet<string>): string {
  if (field.required) return 'yes'
  return checked.has(key) ? 'yes (checked by the action)' : 'no'
}

function fieldsTable(fields: Record<string, InputField>, checked: ReadonlySet<string> = CHECKED_BY_THE_ACTION): string {
  const rows = Object.entries(fields).map(
    ([key, field]) =>
      `| ${field.label} | \`${key}\` | ${field.type} | ${requirement(key, field, checked)} | ${describeMapping(field.default)} | ${cell(field.description)} |`
  )
  return [
    '| Field | Key | Type | Required | Default mapping | Description |',
    '|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}

/** The postback's query, parameter by parameter in the order sent, from the builder's own table. */
function parametersTable(fields: Record<string, InputField>): string {
  const rows = POSTBACK_PARAMETERS.map(({ parameter, field, sentAs }) => {
    const from = field === undefined ? 'settings' : `\`${field}\` (${describeMapping(fields[field]?.default)})`
    return `| ${parameter === undefined ? 'not sent' : `\`${parameter}\``} | ${from} | ${cell(sentAs)} |`
  })
  const reserved = [...RESERVED_PARAMETERS].map((name) => `\`${name}\``).join(', ')
  rows.push(
    `| each name of \`custom_parameters\` | \`custom_parameters\` (none) | extra query parameters, after the ones above; letters, digits and underscores, and none of ${reserved} |`
  )
  return ['| Parameter | From (default mapping) | Sent as |', '|---|---|---|', ...rows].join('\n')
}

function presetsTable(): string {
  const rows = (destination.presets ?? []).map((preset) => {
    const subscribe = 'subscribe' in preset ? `\`${preset.subscribe}\`` : ''
    const defaults = defaultValues(destination.actions[preset.partnerAction].fields)
    const mapping =
      JSON.stringify(preset.mapping) === JSON.stringify(defaults)
        ? preset.partnerAction === 'trackConversion'
          ? 'the default mapping above'
          : `the default mapping of ${destination.actions[preset.partnerAction].title} below`
        : `its own: ${Object.keys(preset.mapping ?? {})
            .map((key) => `\`${key}\``)
            .join(', ')}`
    return `| ${preset.name} | ${subscribe} | \`${preset.partnerAction}\` | ${mapping} |`
  })
  return ['| Preset | Subscription | Action | Mapping |', '|---|---|---|---|', ...rows].join('\n')
}

export function generatedParts(): Record<string, string> {
  const action = destination.actions.trackConversion
  const plugin = pluginDestination.actions.everflowPlugin
  const refund = destination.actions.refundConversion
  const actionText = (one: typeof action) =>
    `**${one.title}** (\`${Object.keys(destination.actions).find((key) => destination.actions[key] === one)}\`): ${one.description}\n\nDefault subscription: \`${one.defaultSubscription}\``
  return {
    'plugin-settings': settingsTable(pluginDestination.settings ?? {}),
    'plugin-action': `**${plugin.title}** (\`everflowPlugin\`): ${plugin.description}\n\nDefault subscription: \`${plugin.defaultSubscription}\``,
    settings: settingsTable(destination.authentication?.fields ?? {}),
    action: actionText(action),
    fields: fieldsTable(action.fields),
    parameters: parametersTable(action.fields),
    presets: presetsTable(),
    refundAction: actionText(refund),
    refundFields: fieldsTable(refund.fields, new Set())
  }
}

/** Replaces the text between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->` for every part. */
export function render(page: string, parts: Record<string, string>): string {
  let result = page
  for (const [name, content] of Object.entries(parts)) {
    const start = `<!-- generated: ${name} -->`
    const end = `<!-- end generated: ${name} -->`
    const from = result.indexOf(start)
    const to = result.indexOf(end)
    if (from < 0 || to < from) throw new Error(`the page has no ${start} ... ${end} block`)
    result = `${result.slice(0, from + start.length)}\n\n${content}\n\n${result.slice(to)}`
  }
  return result
}

/** Rewrites each page whose generated parts are stale, or with `check` writes nothing; returns the stale pages. */
export async function generateDocs(check: boolean): Promise<string[]> {
  // Formatted as `npm run lint` expects, so a generated page also passes prettier --check. Loaded here
  // because prettier 3 cannot load inside jest, where the tests import render().
  const { format, resolveConfig } = await import('prettier')
  const all = generatedParts()
  const stale: string[] = []
  for (const [page, names] of Object.entries(PAGES)) {
    const file = path.join(ROOT, page)
    const current = readFileSync(file, 'utf8')
    const parts = Object.fromEntries(names.map((name) => [name, all[name]]))
    const expected = await format(render(current, parts), { ...(await resolveConfig(file)), filepath: file })
    if (current === expected) continue
    stale.push(page)
    if (!check) writeFileSync(file, expected)
  }
  return stale
}

export const staleDocsMessage = (pages: string[]) =>
  `${pages.join(' and ')}: generated parts are stale. Run \`npm run docs\` and commit the result.`

if (require.main === module) {
  const check = process.argv.includes('--check')
  generateDocs(check).then(
    (stale) => {
      if (check && stale.length > 0) {
        console.error(staleDocsMessage(stale))
        process.exit(1)
      }
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}
