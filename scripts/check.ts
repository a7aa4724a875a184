// npm run check, which test/project.test.ts runs alongside the other test files: generated types and the docs
// page are current, the definition passes validate, and (alongside, in its own process) tsc finds no type error.
import { spawn } from 'child_process'
import path from 'path'
import destination from '../src'
import { generateDocs, staleDocsMessage } from './generate-docs'
import { generateTypes, STALE_TYPES } from './generate-types'
import { problemsReport, validateDefinition } from './validate-definition'

const ROOT = path.join(__dirname, '..')

function typecheck(): Promise<boolean> {
  return new Promise((resolve) => {
    const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit'], {
      cwd: ROOT,
      stdio: 'inherit'
    })
    tsc.on('close', (code) => resolve(code === 0))
  })
}

async function main(): Promise<boolean> {
  const typesOk = typecheck()
  const failures: string[] = []
  const staleTypes = await generateTypes(true)
  if (staleTypes.length > 0) {
    failures.push(`${STALE_TYPES}: ${staleTypes.join(', ')}. Run \`npm run types\` and commit the result.`)
  }
  const staleDocs = await generateDocs(true)
  if (staleDocs.length > 0) failures.push(staleDocsMessage(staleDocs))
  const problems = validateDefinition(destination)
  if (problems.length > 0) failures.push(problemsReport(problems))
  else console.log('validate: the destination definition passes every check')
  for (const failure of failures) console.error(failure)
  if (!(await typesOk)) failures.push('tsc --noEmit')
  return failures.length === 0
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
