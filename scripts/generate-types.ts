// Writes generated-types.ts for the settings and for each action from their field definitions.
// `--check` writes nothing and fails when a file is stale, so `npm test` catches a forgotten `npm run types`.
import { readFileSync, writeFileSync, existsSync } from 'fs'
import path from 'path'
import { compile } from 'json-schema-to-typescript'
import { fieldsToJsonSchema } from '@segment/actions-core'
import type { InputField, GlobalSetting } from '@segment/actions-core'
import destination from '../src'

const BANNER = '// Generated file. DO NOT MODIFY IT BY HAND. Run `npm run types` to regenerate.'

async function render(fields: Record<string, InputField | GlobalSetting>, name: string): Promise<string> {
  const schema = fieldsToJsonSchema(fields, { tsType: true })
  for (const property of Object.values(schema.properties ?? {})) {
    // Without a title each field becomes a documented property, not a separately named type.
    delete property.title
    if (property.type === 'object' && property.properties === undefined) property.additionalProperties = true
  }
  const body = await compile(schema, name, {
    bannerComment: '',
    additionalProperties: false,
    style: { semi: false, singleQuote: true, printWidth: 120 }
  })
  return `${BANNER}\n\n${body.trim()}\n`
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check')
  const src = path.join(__dirname, '..', 'src')
  const targets: Array<[string, Promise<string>]> = [
    [path.join(src, 'generated-types.ts'), render(destination.authentication?.fields ?? {}, 'Settings')]
  ]
  for (const [key, action] of Object.entries(destination.actions)) {
    targets.push([path.join(src, key, 'generated-types.ts'), render(action.fields, 'Payload')])
  }
  const stale: string[] = []
  for (const [file, content] of targets) {
    const expected = await content
    const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
    if (current === expected) continue
    if (check) stale.push(path.relative(process.cwd(), file))
    else writeFileSync(file, expected)
  }
  if (stale.length > 0) {
    console.error(`Generated types are stale: ${stale.join(', ')}. Run \`npm run types\` and commit the result.`)
    process.exit(1)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
