// The exporter (scripts/export-monorepo.ts) against a stand-in checkout in the temp dir: which files go where,
// how imports are rewritten, and that it refuses what the monorepo cannot run. Segment's CI itself needs a real
// checkout of segmentio/action-destinations (see docs/internals.md, "Export to Segment's monorepo").
import { spawnSync } from 'child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs'
import { tmpdir } from 'os'
import path from 'path'
import ts from 'typescript'
import { ADDED_DEV_DEPENDENCIES, BROWSER_LAYOUT, ExportError, planExport } from '../scripts/export-monorepo'

const ROOT = path.join(__dirname, '..')
const FOLDER = 'packages/destination-actions/src/destinations/everflow'
const BROWSER_FOLDER = 'packages/browser-destinations/destinations/everflow-plugins'
// What the monorepo's manifests declare that matters here (its real ones list many more).
const MONOREPO_PACKAGES = ['@segment/actions-core', 'dayjs', 'liquidjs', 'nock', 'jest', '@types/jest', 'typescript']

let scratch: string

function write(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, content)
}

/** A folder with the manifests and the registry file of a checkout, and nothing else. */
function standInCheckout(): string {
  const checkout = path.join(scratch, 'checkout')
  write(path.join(checkout, 'package.json'), JSON.stringify({ devDependencies: { jest: '^30', typescript: '5.5.4' } }))
  write(
    path.join(checkout, 'packages/destination-actions/package.json'),
    JSON.stringify(
      {
        dependencies: { '@segment/actions-core': '^3.177.0', dayjs: '^1.10.7', liquidjs: '^10.27.2' },
        devDependencies: { '@types/jest': '^27.0.0', jest: '^27.5.1', nock: '^13.1.4' }
      },
      null,
      2
    )
  )
  write(path.join(checkout, 'packages/destination-actions/src/destinations/index.ts'), 'register("x", "./podscribe")\n')
  write(
    path.join(checkout, 'packages/browser-destinations/package.json'),
    JSON.stringify({ devDependencies: { '@types/jest': '^27.0.0', jest: '^27.3.1' } })
  )
  write(
    path.join(checkout, 'packages/browser-destination-runtime/package.json'),
    JSON.stringify({
      name: '@segment/browser-destination-runtime',
      version: '1.106.0',
      dependencies: { '@segment/actions-core': '^3.177.0' },
      peerDependencies: { '@segment/analytics-next': '*' }
    })
  )
  return checkout
}

/** Every relative import of a .ts file, resolved to a path inside the exported folder (undefined when it is not there). */
function relativeImports(folder: string, file: string): Array<[string, string | undefined]> {
  const text = readFileSync(path.join(folder, file), 'utf8')
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((entry) => entry.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const base = path.posix.join(path.posix.dirname(file), specifier)
      const found = [`${base}.ts`, `${base}/index.ts`, base].find((candidate) =>
        existsSync(path.join(folder, candidate))
      )
      return [specifier, found]
    })
}

function listFiles(folder: string, dir = ''): string[] {
  return readdirSync(path.join(folder, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(folder, path.posix.join(dir, entry.name)) : [path.posix.join(dir, entry.name)]
  )
}

beforeEach(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'everflow-export-'))
})

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true })
})

/** `npm run export:monorepo -- <args>`, as a child process. */
function runExporter(...args: string[]) {
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/export-monorepo.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8'
  })
}

describe('npm run export:monorepo', () => {
  it('writes the destination folder, leaves the registry alone and prints the pull-request checklist', () => {
    const checkout = standInCheckout()
    const result = runExporter(checkout, '--no-generate')
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const folder = path.join(checkout, FOLDER)

    for (const file of [
      'index.ts',
      'generated-types.ts',
      'settings.ts',
      'trackConversion/index.ts',
      'trackConversion/generated-types.ts',
      '__tests__/trackConversion.test.ts',
      'refundConversion/index.ts',
      'refundConversion/refund.ts',
      'refundConversion/generated-types.ts',
      '__tests__/refundConversion.test.ts',
      '__tests__/fuzz.test.ts',
      '__tests__/snapshot.test.ts',
      '__tests__/__snapshots__/snapshot.test.ts.snap',
      '__tests__/__helpers__/helpers.ts'
    ]) {
      expect(`${file}: ${existsSync(path.join(folder, file))}`).toBe(`${file}: true`)
    }
    for (const file of [
      'cli.ts',
      'toolkit',
      '__tests__/toolkit/refund.test.ts',
      '__tests__/cli.test.ts',
      '__tests__/package.test.ts',
      '__tests__/project.test.ts',
      '__tests__/docs.test.ts',
      '__tests__/validate-definition.test.ts',
      '__tests__/export-monorepo.test.ts',
      '__tests__/__helpers__/global-setup.js',
      '__tests__/__helpers__/hardening-reporter.js',
      '__tests__/__helpers__/sequencer.js',
      'metadata.json',
      // The browser plugin is a destination of its own, in packages/browser-destinations.
      'browser',
      '__tests__/browser'
    ]) {
      expect(`${file}: ${existsSync(path.join(folder, file))}`).toBe(`${file}: false`)
    }

    // The destination's code is copied unchanged (it imports only its own files and packages).
    for (const file of [
      'index.ts',
      'settings.ts',
      'trackConversion/postback.ts',
      'trackConversion/generated-types.ts'
    ]) {
      expect(readFileSync(path.join(folder, file), 'utf8')).toBe(readFileSync(path.join(ROOT, 'src', file), 'utf8'))
    }
    // Every relative import of every exported file names a file of the exported folder, never ../src or support/.
    const typescriptFiles = listFiles(folder).filter((file) => file.endsWith('.ts'))
    expect(typescriptFiles.length).toBeGreaterThan(10)
    for (const file of typescriptFiles) {
      for (const [specifier, found] of relativeImports(folder, file)) {
        expect(`${file} -> ${specifier}: ${found === undefined ? 'missing' : 'found'}`).toBe(
          `${file} -> ${specifier}: found`
        )
        expect(specifier).not.toMatch(/(^|\/)(src|support)(\/|$)/)
      }
    }
    expect(readFileSync(path.join(folder, '__tests__/__snapshots__/snapshot.test.ts.snap'), 'utf8')).toBe(
      readFileSync(path.join(ROOT, 'test/__snapshots__/snapshot.test.ts.snap'), 'utf8')
    )

    // fast-check is not in the monorepo: the pull request adds it, at the version tested here.
    const manifest = JSON.parse(readFileSync(path.join(checkout, 'packages/destination-actions/package.json'), 'utf8'))
    expect(manifest.devDependencies).toEqual({
      '@types/jest': '^27.0.0',
      'fast-check': '3.23.2',
      jest: '^27.5.1',
      nock: '^13.1.4'
    })
    expect(readFileSync(path.join(checkout, 'packages/destination-actions/src/destinations/index.ts'), 'utf8')).toBe(
      'register("x", "./podscribe")\n'
    )
    expect(result.stdout).toContain('Adds `fast-check` as a devDependency of packages/destination-actions')
    expect(result.stdout).toContain('Not registered in src/destinations/index.ts')
    expect(result.stdout).toContain('./bin/run generate:metadata-payload --path ' + FOLDER)
  }, 60_000)

  it('writes the browser plugin as a browser destination: its code, jsdom tests, package.json and tsconfig.json', () => {
    const checkout = standInCheckout()
    const result = runExporter(checkout, '--no-generate')
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const folder = path.join(checkout, BROWSER_FOLDER)
    expect(listFiles(folder).sort()).toEqual([
      'package.json',
      'src/__tests__/everflow-plugin.test.ts',
      'src/click-id.ts',
      'src/client.ts',
      'src/everflowPlugin/generated-types.ts',
      'src/everflowPlugin/index.ts',
      'src/generated-types.ts',
      'src/index.ts',
      'tsconfig.json'
    ])
    // The plugin's code is copied unchanged; its test imports it from the new place.
    for (const file of ['index.ts', 'click-id.ts', 'everflowPlugin/index.ts', 'generated-types.ts']) {
      expect(readFileSync(path.join(folder, 'src', file), 'utf8')).toBe(
        readFileSync(path.join(ROOT, 'src/browser', file), 'utf8')
      )
    }
    const test = readFileSync(path.join(folder, 'src/__tests__/everflow-plugin.test.ts'), 'utf8')
    expect(test).toContain("import everflowPlugins, { destination } from '..'\n")
    expect(test).toContain("from '../click-id'\n")
    expect(test).toContain('@jest-environment jsdom')
    for (const file of listFiles(folder).filter((name) => name.endsWith('.ts'))) {
      for (const [specifier, found] of relativeImports(folder, file)) {
        expect(`${file} -> ${specifier}: ${found === undefined ? 'missing' : 'found'}`).toBe(
          `${file} -> ${specifier}: found`
        )
      }
    }
    // In the shape of the monorepo's other browser destinations, on the checkout's own runtime version.
    expect(JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8'))).toEqual({
      name: '@segment/analytics-browser-actions-everflow-plugins',
      version: '1.0.0',
      license: 'MIT',
      repository: { type: 'git', url: 'https://github.com/segmentio/action-destinations', directory: BROWSER_FOLDER },
      main: './dist/cjs',
      module: './dist/esm',
      scripts: {
        build: 'yarn build:esm && yarn build:cjs',
        'build:cjs': 'tsc --module commonjs --outDir ./dist/cjs',
        'build:esm': 'tsc --outDir ./dist/esm'
      },
      typings: './dist/esm',
      dependencies: { '@segment/browser-destination-runtime': '^1.106.0' },
      peerDependencies: { '@segment/analytics-next': '>=1.55.0' }
    })
    expect(JSON.parse(readFileSync(path.join(folder, 'tsconfig.json'), 'utf8'))).toEqual({
      extends: '../../tsconfig.build.json',
      compilerOptions: { rootDir: './src', baseUrl: '.' },
      include: ['src'],
      exclude: ['dist', '**/__tests__']
    })
    expect(result.stdout).toContain(`Wrote 9 files to ${folder}`)
    expect(result.stdout).toContain('`yarn jest destinations/everflow-plugins` and `yarn typecheck`')
  }, 60_000)

  it('replaces an earlier export without stale files, and still says the pull request adds fast-check', () => {
    const checkout = standInCheckout()
    write(path.join(checkout, FOLDER, 'removed-since.ts'), 'export {}\n')
    const result = runExporter(checkout, '--no-generate')
    expect(result.status).toBe(0)
    expect(existsSync(path.join(checkout, FOLDER, 'removed-since.ts'))).toBe(false)
    // The manifest now holds fast-check from the first export: the pull request still adds it.
    const again = runExporter(checkout, '--no-generate')
    expect(again.status).toBe(0)
    expect(again.stdout).toContain('Adds `fast-check` as a devDependency of packages/destination-actions')
  }, 60_000)

  it('fails, naming the file, when it is run without a checkout', () => {
    const result = runExporter(scratch)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(`${path.join(scratch, 'package.json')} not found`)
  }, 60_000)
})

describe('planExport refuses what the monorepo could not run', () => {
  function project(files: Record<string, string>): string {
    const root = path.join(scratch, 'project')
    for (const [file, content] of Object.entries(files)) write(path.join(root, file), content)
    return root
  }

  function refusal(root: string): string {
    try {
      planExport(root, new Set(MONOREPO_PACKAGES))
    } catch (error) {
      expect(error).toBeInstanceOf(ExportError)
      return (error as Error).message
    }
    throw new Error('planExport accepted the project')
  }

  it('a destination file that imports the toolkit', () => {
    const root = project({
      'src/index.ts': "import { bar } from './toolkit/progress'\nexport default bar\n",
      'src/toolkit/progress.ts': 'export const bar = 1\n'
    })
    expect(refusal(root)).toContain(
      'src/index.ts imports ./toolkit/progress, which is not part of the exported destination.'
    )
  })

  it('a test that imports a script of this project', () => {
    const root = project({
      'src/index.ts': 'export default {}\n',
      'scripts/helper.ts': 'export const x = 1\n',
      'test/thing.test.ts': "import { x } from '../scripts/helper'\n"
    })
    expect(refusal(root)).toContain(
      'test/thing.test.ts imports ../scripts/helper, which is not part of the exported destination.'
    )
  })

  it('a package the monorepo does not have, even from a helper', () => {
    const root = project({
      'src/index.ts': "import got from 'got'\nexport default got\n",
      'test/thing.test.ts': "import { h } from './support/h'\n",
      'test/support/h.ts': "import pb from 'cli-progress'\nexport const h = pb\n"
    })
    const message = refusal(root)
    expect(message).toContain('src/index.ts imports the package got, which the monorepo does not have.')
    expect(message).toContain('test/support/h.ts imports the package cli-progress, which the monorepo does not have.')
  })

  it('a browser plugin file that imports the cloud destination', () => {
    const root = project({
      'src/index.ts': 'export default {}\n',
      'src/browser/index.ts': "import cloud from '..'\nexport default cloud\n"
    })
    expect(() => planExport(root, new Set(MONOREPO_PACKAGES), BROWSER_LAYOUT)).toThrow(
      'src/browser/index.ts imports .., which is not part of the exported destination.'
    )
  })

  it('accepts Node built-ins and allowed packages, and maps helpers and nested tests', () => {
    const root = project({
      'src/index.ts':
        "import { join } from 'path'\nimport dns from 'node:dns'\nimport core from '@segment/actions-core/destination-kit'\nexport default [join, dns, core]\n",
      'test/deep/thing.test.ts': "import d from '../../src'\nimport { h } from '../support/h'\n",
      'test/support/h.ts': "export { default as h } from '../../src/index'\n"
    })
    const { files } = planExport(root, new Set(MONOREPO_PACKAGES))
    expect([...files.keys()].sort()).toEqual(['__tests__/__helpers__/h.ts', '__tests__/deep/thing.test.ts', 'index.ts'])
    expect(files.get('__tests__/deep/thing.test.ts')).toBe(
      "import d from '../..'\nimport { h } from '../__helpers__/h'\n"
    )
    expect(files.get('__tests__/__helpers__/h.ts')).toBe("export { default as h } from '../../index'\n")
  })

  it("removes this project's hardening counts: each tally() statement, its comment and its import", () => {
    const root = project({
      'src/index.ts': 'export default {}\n',
      'test/support/tally.ts': 'export function tally(kind: string, count = 1) {}\n',
      'test/thing.test.ts':
        "import { tally } from './support/tally'\nimport d from '../src'\n\nit('x', () => {\n  // one case\n  tally('ssrf')\n  expect(d).toEqual({})\n})\n"
    })
    const { files } = planExport(root, new Set(MONOREPO_PACKAGES))
    expect([...files.keys()].sort()).toEqual(['__tests__/thing.test.ts', 'index.ts'])
    expect(files.get('__tests__/thing.test.ts')).toBe(
      "import d from '..'\n\nit('x', () => {\n  expect(d).toEqual({})\n})\n"
    )
  })
})

describe('planExport rewrites module paths', () => {
  it('in require.resolve() too, as a test that hands a module to a child process uses it', () => {
    const root = path.join(scratch, 'resolve-project')
    write(path.join(root, 'src/index.ts'), 'export default {}\n')
    write(path.join(root, 'src/deep/thing.ts'), 'export const x = 1\n')
    write(path.join(root, 'test/child.test.ts'), "const file = require.resolve('../src/deep/thing')\n")
    const { files } = planExport(root, new Set(MONOREPO_PACKAGES))
    expect(files.get('__tests__/child.test.ts')).toBe("const file = require.resolve('../deep/thing')\n")
    expect(files.has('deep/thing.ts')).toBe(true)
  })
})

describe("the export of this project's own files", () => {
  it('speaks only of what the monorepo has: no toolkit, benchmark, docs/ or hardening counts', () => {
    const allowed = new Set([...MONOREPO_PACKAGES, ...Object.keys(ADDED_DEV_DEPENDENCIES)])
    const { files } = planExport(path.join(__dirname, '..'), allowed)
    const mentions = [...files].flatMap(([file, text]) =>
      text
        .split('\n')
        .filter((line) => /toolkit|benchmark\b|docs\/|tally|HARDENING_DIR|hardening-reporter/i.test(line))
        .map((line) => `${file}: ${line.trim()}`)
    )
    expect(mentions).toEqual([])
  })
})
