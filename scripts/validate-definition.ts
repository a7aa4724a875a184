// npm run validate: checks the destination definition the way a catalog reviewer would. Part of npm test.
// Each rule returns the problems it finds, named by where they are; no problems means the definition passes.
import { generateFql, parseFql } from '@segment/destination-subscriptions'
import type { DestinationDefinition, GlobalSetting, InputField } from '@segment/actions-core'
import destination from '../src'

type Field = InputField | GlobalSetting
type Definition = DestinationDefinition<never>

/** The FQL parses, and regenerates to the same text (the parser skips what it does not understand). */
export function checkFql(where: string, fql: string | undefined): string[] {
  if (fql === undefined) return []
  const ast = parseFql(fql)
  if ('error' in ast) return [`${where}: subscription ${JSON.stringify(fql)} does not parse as FQL`]
  const normalised = fql.replace(/\s+/g, ' ').trim()
  return generateFql(ast) === normalised
    ? []
    : [`${where}: subscription ${JSON.stringify(fql)} parses only in part (as ${JSON.stringify(generateFql(ast))})`]
}

/** A full sentence: starts with a capital letter or digit, has at least three words, ends with . ! or ?. */
export function checkSentence(where: string, what: string, text: string | undefined): string[] {
  if (!text || !text.trim()) return [`${where}: ${what} is missing`]
  const sentence =
    /^["'(]?[A-Z0-9]/.test(text) && /[.!?]["')]?$/.test(text.trim()) && text.trim().split(/\s+/).length >= 3
  return sentence ? [] : [`${where}: ${what} ${JSON.stringify(text)} is not a full sentence`]
}

function isDirective(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.keys(value).some((key) => key.startsWith('@'))
  )
}

/** Whether a literal value fits a field type, as the framework's JSON schema will judge it. */
function fitsType(type: string, value: unknown): boolean {
  switch (type) {
    case 'string':
    case 'text':
    case 'password':
    case 'datetime':
      return typeof value === 'string'
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'integer':
      return Number.isSafeInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
    default:
      return false
  }
}

export function checkField(where: string, field: Field, allowDirectives: boolean): string[] {
  const problems = [
    ...(field.label?.trim() ? [] : [`${where}: label is missing`]),
    ...checkSentence(where, 'description', field.description)
  ]
  const { default: fallback, type } = field
  if (fallback !== undefined && !(allowDirectives && isDirective(fallback))) {
    const values = 'multiple' in field && field.multiple && Array.isArray(fallback) ? fallback : [fallback]
    if (!values.every((value) => fitsType(type, value))) {
      problems.push(`${where}: default ${JSON.stringify(fallback)} does not fit type ${type}`)
    }
    const { minimum, maximum } = field as { minimum?: number; maximum?: number }
    if (
      typeof fallback === 'number' &&
      ((minimum !== undefined && fallback < minimum) || (maximum !== undefined && fallback > maximum))
    ) {
      problems.push(`${where}: default ${fallback} is outside ${minimum ?? '-∞'}..${maximum ?? '∞'}`)
    }
  }
  if (field.choices !== undefined) {
    const values = field.choices.map((choice) => (typeof choice === 'string' ? choice : choice.value))
    if (values.length === 0) problems.push(`${where}: choices are empty`)
    if (new Set(values).size !== values.length) problems.push(`${where}: choices repeat a value`)
    if (!values.every((value) => fitsType(type, value))) problems.push(`${where}: a choice does not fit type ${type}`)
    for (const choice of field.choices) {
      if (typeof choice !== 'string' && !choice.label?.trim())
        problems.push(`${where}: choice ${JSON.stringify(choice.value)} has no label`)
    }
    if (fallback !== undefined && !isDirective(fallback) && !values.includes(fallback as never)) {
      problems.push(`${where}: default ${JSON.stringify(fallback)} is not one of the choices`)
    }
  }
  return problems
}

export function validateDefinition(definition: Definition): string[] {
  const problems: string[] = [...checkSentence('destination', 'description', definition.description)]
  for (const [key, setting] of Object.entries(definition.authentication?.fields ?? {})) {
    problems.push(...checkField(`setting ${key}`, setting, false))
  }
  for (const [actionKey, action] of Object.entries(definition.actions)) {
    const where = `action ${actionKey}`
    if (!action.title?.trim()) problems.push(`${where}: title is missing`)
    problems.push(...checkSentence(where, 'description', action.description))
    problems.push(...checkFql(`${where} defaultSubscription`, action.defaultSubscription))
    for (const [fieldKey, field] of Object.entries(action.fields)) {
      problems.push(...checkField(`${where} field ${fieldKey}`, field, true))
    }
  }
  for (const preset of definition.presets ?? []) {
    const where = `preset ${JSON.stringify(preset.name)}`
    if (!preset.name?.trim()) problems.push(`${where}: name is missing`)
    const action = definition.actions[preset.partnerAction]
    if (!action) {
      problems.push(`${where}: names action ${JSON.stringify(preset.partnerAction)}, which does not exist`)
      continue
    }
    if ('subscribe' in preset) problems.push(...checkFql(where, preset.subscribe))
    for (const key of Object.keys(preset.mapping ?? {})) {
      if (!(key in action.fields))
        problems.push(`${where}: maps ${JSON.stringify(key)}, which is not a field of ${preset.partnerAction}`)
    }
  }
  return problems
}

/** The problems as the command prints them. */
export function problemsReport(problems: string[]): string {
  return `The destination definition has ${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`
}

if (require.main === module) {
  const problems = validateDefinition(destination)
  if (problems.length > 0) {
    console.error(problemsReport(problems))
    process.exit(1)
  }
  console.log('validate: the destination definition passes every check')
}
