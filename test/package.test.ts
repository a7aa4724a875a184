// The package as a consumer gets it: `npm run build` emits dist/ with type declarations, and requiring the
// package by its folder (package.json "main") yields a destination that runs an action.
import { spawnSync } from 'child_process'
import { existsSync, readFileSync } from 'fs'
import path from 'path'
import nock from 'nock'
import { createTestIntegration } from '@segment/actions-core'
import type { DestinationDefinition } from '@segment/actions-core'
import { orderCompleted, settings, TRACKING_ORIGIN, TRANSACTION_ID } from './support/helpers'

const ROOT = path.join(__dirname, '..')

beforeAll(() => {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' })
  expect(build.stderr + build.stdout).toBe('')
  expect(build.status).toBe(0)
}, 120_000)

describe('the built package', () => {
  it('declares main, types, files, engines, license, description and keywords', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>
    expect(manifest).toMatchObject({
      main: 'dist/index.js',
      types: 'dist/index.d.ts',
      files: ['dist', 'examples'],
      engines: { node: '>=20' },
      license: 'MIT'
    })
    expect(manifest.description).toEqual(expect.stringContaining('Everflow'))
    expect(manifest.keywords).toEqual(expect.arrayContaining(['segment', 'everflow']))
    expect(existsSync(path.join(ROOT, 'dist', 'index.d.ts'))).toBe(true)
    expect(existsSync(path.join(ROOT, 'dist', 'trackConversion', 'postback.d.ts'))).toBe(true)
  })

  it('runs trackConversion when required by its folder, as a consumer would', async () => {
    // What `require('everflow-actions-destination')` does for a consumer: resolve the folder's main.
    const built = (await import(ROOT)) as { default: DestinationDefinition<never> }
    expect(require.resolve(ROOT)).toBe(path.join(ROOT, 'dist', 'index.js'))
    expect(built.default.name).toBe('Everflow (Actions)')
    nock(TRACKING_ORIGIN).get('/').query(true).reply(200, 'OK')
    const [response] = await createTestIntegration(built.default).testAction('trackConversion', {
      event: orderCompleted(),
      settings: settings as never,
      useDefaultMappings: true
    })
    expect(response.status).toBe(200)
    expect(new URL(response.url).searchParams.get('transaction_id')).toBe(TRANSACTION_ID)
  })

  it('packs dist, examples and the docs a registry shows, and no sources or tests', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
    const [{ files }] = JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>
    const paths = files.map((file) => file.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'examples/settings.json',
        'README.md',
        'package.json'
      ])
    )
    expect(paths.filter((file) => /^(src|test|bench|scripts)\//.test(file))).toEqual([])
  })
})
