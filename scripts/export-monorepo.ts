// `npm run export:monorepo -- <checkout of segmentio/action-destinations>` writes this destination into the
// checkout as a contributor's pull request holds it: packages/destination-actions/src/destinations/everflow/.
// What goes in is decided by rules, not a list of today's files:
//   - source: every file under src/ except this project's toolkit (src/toolkit/**, src/cli.ts);
//   - tests: every test/**/*.test.ts except the project-only ones, in __tests__/ with their snapshots;
//   - the test helpers those tests import (test/support/**), in __tests__/__helpers__/ (jest skips it there);
//   - not this project's hardening counts: every `tally(...)` statement and its import of test/support/tally.ts
//     is removed, since the reporter that prints them is not exported.
// Relative imports are rewritten to the new layout. An import of a file outside the exported set, or of a package
// the monorepo does not have, stops the export. When the checkout is installed, its own generators then write the
// generated types (which must equal ours) and metadata.json; otherwise the printed checklist says what to run.
import { spawnSync } from 'child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs'
import { builtinModules } from 'module'
import path from 'path'
import ts from 'typescript'

export const DESTINATION_FOLDER = 'packages/destination-actions/src/destinations/everflow'

/** Files of this project that never go to the monorepo (paths relative to the project, '/' separated). */
const PROJECT_ONLY = [
  /^src\/toolkit\//,
  /^src\/cli\.ts$/,
  /^test\/toolkit\//,
  /^test\/(cli|package|project|docs|validate-definition|export-monorepo)\.test\.ts$/,
  /^test\/support\/tally\.ts$/
]

/** The project-only module whose calls are removed from exported files, and its one function. */
const COUNTS_MODULE = 'test/support/tally.ts'
const COUNTS_FUNCTION = 'tally'

/** Dev dependencies the pull request adds to packages/destination-actions, and why. */
export const ADDED_DEV_DEPENDENCIES: Record<string, string> = {
  'fast-check':
    'the property-based (fuzz) test of the postback builder and the settings parser; 3.x because 4.x is ESM-only and does not load under the monorepo’s jest 27'
}

export class ExportError extends Error {}

/**
 * The file without this project's hardening counts: the import of COUNTS_MODULE and every statement that is a
 * call of its function, each with the comment lines before it.
 */
function withoutCounts(root: string, file: string, text: string): string {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const removed: ts.Node[] = []
  const visit = (node: ts.Node): void => {
    if (
      ts.isImportDeclaration(node) &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      resolveRelative(root, file, node.moduleSpecifier.text) === COUNTS_MODULE
    ) {
      removed.push(node)
    } else if (
      ts.isExpressionStatement(node) &&
      ts.isCallExpression(node.expression) &&
      ts.isIdentifier(node.expression.expression) &&
      node.expression.expression.text === COUNTS_FUNCTION
    ) {
      removed.push(node)
    } else {
      ts.forEachChild(node, visit)
    }
  }
  visit(source)
  for (const node of removed.reverse()) {
    // The line break before a statement goes with it; the first line of the file has none, so its own goes.
    const start = node.getFullStart()
    const end = start === 0 && text[node.getEnd()] === '\n' ? node.getEnd() + 1 : node.getEnd()
    text = text.slice(0, start) + text.slice(end)
  }
  return text
}

/** Where a project file goes inside the destination folder, or undefined when it is not exported. */
function targetOf(file: string): string | undefined {
  if (PROJECT_ONLY.some((rule) => rule.test(file))) return undefined
  if (file.startsWith('src/')) return file.slice('src/'.length)
  if (file.startsWith('test/support/')) return `__tests__/__helpers__/${file.slice('test/support/'.length)}`
  if (file.startsWith('test/')) return `__tests__/${file.slice('test/'.length)}`
  return undefined
}

function walk(root: string, dir: string): string[] {
  const full = path.join(root, dir)
  if (!existsSync(full)) return []
  return readdirSync(full, { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`
    return entry.isDirectory() ? walk(root, rel) : [rel]
  })
}

/** The project file a relative import names, as TypeScript would resolve it. */
function resolveRelative(root: string, from: string, specifier: string): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier)
  const candidates = [base, `${base}.ts`, `${base}.js`, `${base}.json`, `${base}/index.ts`, `${base}/index.js`]
  return candidates.find((file) => existsSync(path.join(root, file)) && statSync(path.join(root, file)).isFile())
}

function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(packageName(specifier))
}

/** The specifier that names `target` from `from`, both paths inside the destination folder. */
function specifierBetween(from: string, target: string, namedFolder: boolean): string {
  let to = target.replace(/\.(ts|js)$/, '')
  if (namedFolder) to = path.posix.dirname(to)
  let relative = path.posix.relative(path.posix.dirname(from), to) || '.'
  if (!relative.startsWith('.')) relative = `./${relative}`
  return relative
}

export interface ExportPlan {
  /** Destination-folder path -> content. */
  files: Map<string, string>
  /** Packages the exported files import, with the project files that import them. */
  packages: Map<string, string[]>
}

/**
 * Decides every file of the destination folder. `allowedPackages` are the packages the monorepo has (plus the dev
 * dependencies the pull request adds); importing any other package, or a project file that is not exported, throws.
 */
export function planExport(root: string, allowedPackages: Set<string>): ExportPlan {
  const all = [...walk(root, 'src'), ...walk(root, 'test')]
  const sources = all.filter((file) => file.startsWith('src/') && targetOf(file) !== undefined)
  const tests = all.filter(
    (file) => /\.test\.ts$/.test(file) && file.startsWith('test/') && targetOf(file) !== undefined
  )
  if (!sources.includes('src/index.ts')) throw new ExportError('src/index.ts (the destination definition) is missing.')

  const files = new Map<string, string>()
  const packages = new Map<string, string[]>()
  const problems: string[] = []
  const queue = [...sources, ...tests]
  const queued = new Set(queue)

  while (queue.length > 0) {
    const file = queue.shift()!
    const target = targetOf(file)!
    let text = readFileSync(path.join(root, file), 'utf8')
    if (/\.ts$/.test(file)) text = withoutCounts(root, file, text)
    if (/\.(ts|js)$/.test(file)) {
      const edits: Array<{ start: number; end: number; replacement: string }> = []
      for (const { fileName: specifier, pos } of ts.preProcessFile(text, true, true).importedFiles) {
        if (!specifier.startsWith('.')) {
          if (isBuiltin(specifier)) continue
          const name = packageName(specifier)
          if (!allowedPackages.has(name))
            problems.push(`${file} imports the package ${name}, which the monorepo does not have.`)
          packages.set(name, [...(packages.get(name) ?? []), file])
          continue
        }
        const imported = resolveRelative(root, file, specifier)
        const importedTarget = imported === undefined ? undefined : targetOf(imported)
        if (imported === undefined || importedTarget === undefined) {
          problems.push(`${file} imports ${specifier}, which is not part of the exported destination.`)
          continue
        }
        if (!queued.has(imported)) {
          queued.add(imported)
          queue.push(imported)
        }
        const namedFolder = /\/index\.(ts|js)$/.test(imported) && !/(^|\/)index$/.test(specifier)
        const replacement = specifierBetween(target, importedTarget, namedFolder)
        // pos is the opening quote of the module name.
        if (text.slice(pos + 1, pos + 1 + specifier.length) !== specifier) {
          throw new ExportError(`${file}: could not locate the import of ${specifier}.`)
        }
        edits.push({ start: pos + 1, end: pos + 1 + specifier.length, replacement })
      }
      for (const edit of edits.sort((a, b) => b.start - a.start)) {
        text = text.slice(0, edit.start) + edit.replacement + text.slice(edit.end)
      }
    }
    files.set(target, text)
  }

  // Snapshots of exported tests travel with them.
  for (const snapshot of all.filter((file) => file.endsWith('.snap'))) {
    const test = snapshot.replace(/__snapshots__\/(.+)\.snap$/, '$1')
    if (queued.has(test)) files.set(targetOf(snapshot)!, readFileSync(path.join(root, snapshot), 'utf8'))
  }
  if (problems.length > 0) throw new ExportError(`Cannot export:\n  ${problems.join('\n  ')}`)
  return { files, packages }
}

/** Every package the checkout's destinations can import: root and destination-actions dependencies. */
export function monorepoPackages(checkout: string): Set<string> {
  const names = new Set<string>()
  for (const manifest of ['package.json', 'packages/destination-actions/package.json']) {
    const file = path.join(checkout, manifest)
    if (!existsSync(file))
      throw new ExportError(`${file} not found: is ${checkout} a checkout of segmentio/action-destinations?`)
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | undefined>
    for (const field of ['dependencies', 'devDependencies'])
      for (const name of Object.keys(json[field] ?? {})) names.add(name)
  }
  return names
}

function run(checkout: string, args: string[]): void {
  const result = spawnSync(args[0], args.slice(1), {
    cwd: checkout,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', HUSKY: '0', TZ: 'UTC' }
  })
  if (result.status !== 0) {
    throw new ExportError(`${args.join(' ')} failed in ${checkout}:\n${result.stdout}\n${result.stderr}`)
  }
}

function checklist(generated: boolean, added: string[]): string {
  const generate = generated
    ? '- [x] Generated types and metadata.json written by the checkout’s own generators (`yarn types`, `yarn generate:metadata-payload`).'
    : [
        '- [ ] In the checkout (dependencies installed, built): `./bin/run generate:types --path ' +
          `${DESTINATION_FOLDER}/index.ts\` (must leave generated-types.ts unchanged) and ` +
          `\`./bin/run generate:metadata-payload --path ${DESTINATION_FOLDER}\` (writes metadata.json).`
      ].join('\n')
  const devDependencies = added.map(
    (name) => `- Adds \`${name}\` as a devDependency of packages/destination-actions: ${ADDED_DEV_DEPENDENCIES[name]}.`
  )
  return [
    'Pull request: New destination: Everflow (Actions)',
    '',
    'Sends Segment track events to Everflow as server-side conversion postbacks (one HTTPS GET per event, batches fanned out).',
    '',
    ...devDependencies,
    '- Not registered in src/destinations/index.ts: Segment assigns the metadata id.',
    '',
    'Checklist:',
    generate,
    '- [ ] `sh scripts/assert-types-updated.sh` and `sh scripts/assert-metadata-payload.sh` (root, after committing)',
    '- [ ] `yarn typecheck` and `yarn test --ci --testPathPattern=src/destinations/everflow/` in packages/destination-actions',
    "- [ ] `./bin/run validate` with a temporary local line in src/destinations/index.ts: register('<any 24 hex digits>', './everflow') (do not commit it)",
    `- [ ] \`npx eslint ${DESTINATION_FOLDER}\`: no errors`,
    '- [ ] Docs page for segment.com/docs (this project keeps it in docs/everflow-actions.md)'
  ].join('\n')
}

function main(): void {
  const args = process.argv.slice(2)
  const checkoutArg = args.find((arg) => !arg.startsWith('--'))
  if (checkoutArg === undefined) {
    throw new ExportError(
      'Usage: npm run export:monorepo -- <path to a checkout of segmentio/action-destinations> [--no-generate]'
    )
  }
  const checkout = path.resolve(checkoutArg)
  const root = path.join(__dirname, '..')
  const available = monorepoPackages(checkout)
  const own = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>
  }
  const manifestFile = path.join(checkout, 'packages/destination-actions/package.json')
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { devDependencies: Record<string, string> }
  // Missing there, or already written by an earlier export (our exact pin): either way the pull request adds it.
  const added = Object.keys(ADDED_DEV_DEPENDENCIES).filter(
    (name) => !available.has(name) || manifest.devDependencies[name] === own.devDependencies[name]
  )
  const plan = planExport(root, new Set([...available, ...added]))
  const used = added.filter((name) => plan.packages.has(name))

  const folder = path.join(checkout, DESTINATION_FOLDER)
  rmSync(folder, { recursive: true, force: true })
  for (const [file, content] of plan.files) {
    mkdirSync(path.dirname(path.join(folder, file)), { recursive: true })
    writeFileSync(path.join(folder, file), content)
  }
  console.log(`Wrote ${plan.files.size} files to ${folder}`)

  if (used.length > 0) {
    // The pull request holds the added dev dependency at the version this project tests with.
    for (const name of used) manifest.devDependencies[name] = own.devDependencies[name]
    manifest.devDependencies = Object.fromEntries(
      Object.entries(manifest.devDependencies).sort(([a], [b]) => a.localeCompare(b))
    )
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`)
    console.log(
      `Added to packages/destination-actions devDependencies: ${used.join(', ')} (run yarn install to update yarn.lock)`
    )
  }

  const installed = existsSync(path.join(checkout, 'node_modules', '@oclif', 'command'))
  const generate = installed && !args.includes('--no-generate')
  if (generate) {
    const ours = [...plan.files.keys()].filter((file) => file.endsWith('generated-types.ts'))
    run(checkout, ['./bin/run', 'generate:types', '--path', `${DESTINATION_FOLDER}/index.ts`])
    const differing = ours.filter((file) => readFileSync(path.join(folder, file), 'utf8') !== plan.files.get(file))
    if (differing.length > 0) {
      throw new ExportError(
        `The monorepo's generator wrote different types than scripts/generate-types.ts for: ${differing.join(', ')}. ` +
          'Bring scripts/generate-types.ts in step with it.'
      )
    }
    run(checkout, ['./bin/run', 'generate:metadata-payload', '--path', DESTINATION_FOLDER])
    if (!existsSync(path.join(folder, 'metadata.json')))
      throw new ExportError('generate:metadata-payload wrote no metadata.json.')
    console.log('Generated types (identical to ours) and metadata.json written by the checkout’s generators.')
  }
  console.log(`\n${checklist(generate, used)}`)
}

if (require.main === module) {
  try {
    main()
  } catch (error) {
    console.error(error instanceof ExportError ? error.message : error)
    process.exit(1)
  }
}
