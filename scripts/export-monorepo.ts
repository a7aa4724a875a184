// `npm run export:monorepo -- <checkout of segmentio/action-destinations>` writes this project's two destinations
// into the checkout as a contributor's pull request holds them: the cloud destination in
// packages/destination-actions/src/destinations/everflow/, the browser plugin (src/browser) in
// packages/browser-destinations/destinations/everflow-plugins/.
// What goes in is decided by rules, not a list of today's files:
//   - cloud source: every file under src/ except this project's toolkit (src/toolkit/**, src/cli.ts) and the plugin;
//   - cloud tests: every test/**/*.test.ts except the project-only ones, in __tests__/ with their snapshots;
//   - the test helpers those tests import (test/support/**), in __tests__/__helpers__/ (jest skips it there);
//   - the plugin: src/browser/** in src/, its jsdom tests (test/browser/*.test.ts but the real-browser one) in
//     src/__tests__/, and a package.json and tsconfig.json in the shape of the other browser destinations.
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
export const BROWSER_FOLDER = 'packages/browser-destinations/destinations/everflow-plugins'

/** Files of this project that never go to the monorepo (paths relative to the project, '/' separated). */
const PROJECT_ONLY = [
  /^src\/toolkit\//,
  /^src\/cli\.ts$/,
  /^test\/toolkit\//,
  /^test\/(cli|package|project|docs|validate-definition|export-monorepo)\.test\.ts$/,
  /^test\/support\/tally\.ts$/,
  // It needs a browser of its own and a page bundle; the monorepo's browser destinations test in jsdom.
  /^test\/browser\/(real-browser\.test\.ts|page\/)/
]

/** How project files map into one destination folder of the monorepo. */
export interface Layout {
  /** The file that defines the destination. */
  entry: string
  /** Where a project file goes inside the destination folder, or undefined when it is not part of it. */
  targetOf: (file: string) => string | undefined
}

/**
 * The module names a file imports, each with the position of its opening quote: imports and require() calls as
 * TypeScript finds them, and require.resolve() of a relative path (a test that hands a module's file to a child
 * process), which TypeScript does not report.
 */
function importsOf(text: string): Array<{ fileName: string; pos: number }> {
  const resolved = [...text.matchAll(/require\.resolve\(\s*(['"])(\.[^'"]*)\1/g)].map((match) => ({
    fileName: match[2],
    pos: match.index + match[0].indexOf(match[1])
  }))
  return [...ts.preProcessFile(text, true, true).importedFiles, ...resolved]
}

/** Where a project file goes inside the cloud destination's folder, or undefined when it is not exported there. */
function cloudTarget(file: string): string | undefined {
  if (PROJECT_ONLY.some((rule) => rule.test(file))) return undefined
  if (file.startsWith('src/browser/') || file.startsWith('test/browser/')) return undefined
  if (file.startsWith('src/')) return file.slice('src/'.length)
  if (file.startsWith('test/support/')) return `__tests__/__helpers__/${file.slice('test/support/'.length)}`
  if (file.startsWith('test/')) return `__tests__/${file.slice('test/'.length)}`
  return undefined
}

/** Where a project file goes inside the browser plugin's folder (its src/ and src/__tests__/). */
function browserTarget(file: string): string | undefined {
  if (PROJECT_ONLY.some((rule) => rule.test(file))) return undefined
  if (file.startsWith('src/browser/')) return `src/${file.slice('src/browser/'.length)}`
  if (/^test\/browser\/[^/]+$/.test(file)) return `src/__tests__/${file.slice('test/browser/'.length)}`
  return undefined
}

export const CLOUD_LAYOUT: Layout = { entry: 'src/index.ts', targetOf: cloudTarget }
export const BROWSER_LAYOUT: Layout = { entry: 'src/browser/index.ts', targetOf: browserTarget }

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
export function planExport(root: string, allowedPackages: Set<string>, layout: Layout = CLOUD_LAYOUT): ExportPlan {
  const { targetOf } = layout
  const all = [...walk(root, 'src'), ...walk(root, 'test')]
  const sources = all.filter((file) => file.startsWith('src/') && targetOf(file) !== undefined)
  const tests = all.filter(
    (file) => /\.test\.ts$/.test(file) && file.startsWith('test/') && targetOf(file) !== undefined
  )
  if (!sources.includes(layout.entry)) throw new ExportError(`${layout.entry} (the destination definition) is missing.`)

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
      for (const { fileName: specifier, pos } of importsOf(text)) {
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

function readManifest(checkout: string, manifest: string): Record<string, unknown> {
  const file = path.join(checkout, manifest)
  if (!existsSync(file))
    throw new ExportError(`${file} not found: is ${checkout} a checkout of segmentio/action-destinations?`)
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
}

function packagesOf(checkout: string, manifests: string[]): Set<string> {
  const names = new Set<string>()
  for (const manifest of manifests) {
    const json = readManifest(checkout, manifest) as Record<string, Record<string, string> | undefined>
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies'])
      for (const name of Object.keys(json[field] ?? {})) names.add(name)
  }
  return names
}

/** Every package the checkout's cloud destinations can import: root and destination-actions dependencies. */
export function monorepoPackages(checkout: string): Set<string> {
  return packagesOf(checkout, ['package.json', 'packages/destination-actions/package.json'])
}

const RUNTIME_MANIFEST = 'packages/browser-destination-runtime/package.json'

/** Every package a browser destination can import: the browser workspace's, the runtime's, and the runtime. */
export function browserPackages(checkout: string): Set<string> {
  const names = packagesOf(checkout, ['package.json', 'packages/browser-destinations/package.json', RUNTIME_MANIFEST])
  names.add('@segment/browser-destination-runtime')
  return names
}

/**
 * The plugin's package.json and tsconfig.json, in the shape every browser destination of the checkout has: it
 * depends on the checkout's own browser-destination-runtime version, analytics-next is the page's (a peer).
 */
export function browserPackageFiles(checkout: string): Map<string, string> {
  const runtime = readManifest(checkout, RUNTIME_MANIFEST) as { version?: string }
  if (typeof runtime.version !== 'string') throw new ExportError(`${RUNTIME_MANIFEST} has no version.`)
  const manifest = {
    name: '@segment/analytics-browser-actions-everflow-plugins',
    version: '1.0.0',
    license: 'MIT',
    repository: {
      type: 'git',
      url: 'https://github.com/segmentio/action-destinations',
      directory: BROWSER_FOLDER
    },
    main: './dist/cjs',
    module: './dist/esm',
    scripts: {
      build: 'yarn build:esm && yarn build:cjs',
      'build:cjs': 'tsc --module commonjs --outDir ./dist/cjs',
      'build:esm': 'tsc --outDir ./dist/esm'
    },
    typings: './dist/esm',
    dependencies: { '@segment/browser-destination-runtime': `^${runtime.version}` },
    peerDependencies: { '@segment/analytics-next': '>=1.55.0' }
  }
  const tsconfig = {
    extends: '../../tsconfig.build.json',
    compilerOptions: { rootDir: './src', baseUrl: '.' },
    include: ['src'],
    exclude: ['dist', '**/__tests__']
  }
  return new Map([
    ['package.json', `${JSON.stringify(manifest, null, 2)}\n`],
    ['tsconfig.json', `${JSON.stringify(tsconfig, null, 2)}\n`]
  ])
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
          `\`./bin/run generate:metadata-payload --path ${DESTINATION_FOLDER}\` (writes metadata.json); the same two for ` +
          `${BROWSER_FOLDER} (generate:types --path ${BROWSER_FOLDER}/src/index.ts).`
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
    '- [ ] Docs page for segment.com/docs (this project keeps it in docs/everflow-actions.md)',
    '',
    `Browser plugin (${BROWSER_FOLDER}): Everflow Plugins, an enrichment action that adds the Everflow click to events as context.referrer.`,
    '- Not registered in packages/destinations-manifest: Segment assigns the metadata id.',
    '- [ ] `yarn install --ignore-engines` (root) so the new workspace is linked',
    '- [ ] `yarn jest destinations/everflow-plugins` and `yarn typecheck` in packages/browser-destinations',
    '- [ ] `NODE_ENV=production yarn build:browser-bundles` and `yarn browser size` (root)'
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

  const browserPlan = planExport(root, browserPackages(checkout), BROWSER_LAYOUT)
  const browserFiles = new Map([...browserPlan.files, ...browserPackageFiles(checkout)])
  const browserFolder = path.join(checkout, BROWSER_FOLDER)
  rmSync(browserFolder, { recursive: true, force: true })
  for (const [file, content] of browserFiles) {
    mkdirSync(path.dirname(path.join(browserFolder, file)), { recursive: true })
    writeFileSync(path.join(browserFolder, file), content)
  }
  console.log(`Wrote ${browserFiles.size} files to ${browserFolder}`)

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
    run(checkout, ['./bin/run', 'generate:types', '--path', `${BROWSER_FOLDER}/src/index.ts`])
    const browserDiffering = [...browserFiles.keys()]
      .filter((file) => file.endsWith('generated-types.ts'))
      .filter((file) => readFileSync(path.join(browserFolder, file), 'utf8') !== browserFiles.get(file))
    if (browserDiffering.length > 0) {
      throw new ExportError(
        `The monorepo's generator wrote different types than scripts/generate-types.ts for the browser plugin: ${browserDiffering.join(', ')}.`
      )
    }
    for (const [destination, target] of [
      [DESTINATION_FOLDER, folder],
      [BROWSER_FOLDER, browserFolder]
    ]) {
      run(checkout, ['./bin/run', 'generate:metadata-payload', '--path', destination])
      if (!existsSync(path.join(target, 'metadata.json')))
        throw new ExportError(`generate:metadata-payload wrote no metadata.json in ${destination}.`)
    }
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
