// `npm run check` as part of the suite: generated types and the catalog page are current, the definition passes
// validate, and tsc finds no type error. It runs in its own process (prettier, which the type generator uses,
// cannot load inside jest) while the other test files run, instead of before all of them.
import { spawn } from 'child_process'
import path from 'path'

const ROOT = path.join(__dirname, '..')

function runCheck(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const check = spawn(
      process.execPath,
      [require.resolve('ts-node/dist/bin.js'), '--transpile-only', 'scripts/check.ts'],
      { cwd: ROOT }
    )
    let output = ''
    check.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    check.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    check.on('error', reject)
    check.on('close', (code) => resolve({ code, output }))
  })
}

it('npm run check passes: generated types and docs current, definition valid, no type error', async () => {
  const { code, output } = await runCheck()
  // Its own output says which file is stale, which rule or which type error.
  if (code !== 0) throw new Error(`npm run check exited ${code}:\n${output}`)
  expect(output).toContain('validate: the destination definition passes every check')
}, 180_000)
