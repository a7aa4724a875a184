// Writes generated-types.ts for the settings and for each action from their field definitions.
// `--check` writes nothing and fails when a file is stale, so `npm test` catches a forgotten `npm run types`.
// The output is byte for byte what segmentio/action-destinations' `yarn types` writes (same banner, same schema
// clean-up, same prettier style), so one generated file serves this project and the monorepo, whose CI fails on
// any difference: a setting with `choices` is typed as plain `string` there, and so here.
import { readFileSync, writeFileSync, existsSync } from 'fs'
import path from 'path'
import { compile } from 'json-schema-to-typescript'
import type { JSONSchema4 } from 'json-schema'
import type { Options as PrettierOptions } from 'prettier'
import { fieldsToJsonSchema } from '@segment/actions-core'
import type { InputField, GlobalSetting } from '@segment/actions-core'
import destination from '../src'
import { destination as browserDestination } from '../src/browser'

const BANNER = '// Generated file. DO NOT MODIFY IT BY HAND.'
const PRETTIER = JSON.parse(readFileSync(path.join(__dirname, '..', '.prettierrc.json'), 'utf8')) as PrettierOptions

/** Titles would become separately named types, enums unions; the monorepo's generator drops both, at every level. */
function withoutTitlesAndEnums(schema: JSONSchema4): JSONSchema4 {
  const rest = { ...schema }
  delete rest.title
  delete rest.enum
  if (rest.type === 'object' && rest.properties) {
    rest.properties = Object.fromEntries(
      Object.entries(rest.properties).map(([key, property]) => [key, withoutTitlesAndEnums(property)])
    )
  } else if (rest.type === 'array' && rest.items && !Array.isArray(rest.items)) {
    rest.items = withoutTitlesAndEnums(rest.items)
  }
  return rest
}

function render(fields: Record<string, InputField | GlobalSetting>, name: string): Promise<string> {
  const schema = withoutTitlesAndEnums(fieldsToJsonSchema(fields, { tsType: true }))
  return compile(schema, name, { bannerComment: BANNER, style: PRETTIER })
}

/** Writes every stale generated-types.ts, or with `check` writes nothing; returns the stale files either way. */
export async function generateTypes(check: boolean): Promise<string[]> {
  const src = path.join(__dirname, '..', 'src')
  const targets: Array<[string, Promise<string>]> = [
    [path.join(src, 'generated-types.ts'), render(destination.authentication?.fields ?? {}, 'Settings')]
  ]
  for (const [key, action] of Object.entries(destination.actions)) {
    targets.push([path.join(src, key, 'generated-types.ts'), render(action.fields, 'Payload')])
  }
  // The browser plugin (src/browser), a destination of its own in the monorepo, generated the same way.
  const browser = path.join(src, 'browser')
  targets.push([path.join(browser, 'generated-types.ts'), render(browserDestination.settings ?? {}, 'Settings')])
  for (const [key, action] of Object.entries(browserDestination.actions)) {
    targets.push([path.join(browser, key, 'generated-types.ts'), render(action.fields, 'Payload')])
  }
  const stale: string[] = []
  for (const [file, content] of targets) {
    const expected = await content
    const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
    if (current === expected) continue
    stale.push(path.relative(process.cwd(), file))
    if (!check) writeFileSync(file, expected)
  }
  return stale
}

export const STALE_TYPES = 'Generated types are stale'

if (require.main === module) {
  const check = process.argv.includes('--check')
  generateTypes(check).then(
    (stale) => {
      if (check && stale.length > 0) {
        console.error(`${STALE_TYPES}: ${stale.join(', ')}. Run \`npm run types\` and commit the result.`)
        process.exit(1)
      }
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}
