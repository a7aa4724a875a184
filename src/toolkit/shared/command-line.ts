// The command the user ran, as words a shell reads back: every hint that prints a command prints all of it (the
// settings, the rate, the subscription), so that pasting it does the same thing.
import type { Io } from './io'

/** A word as a POSIX shell reads it back unchanged: bare when safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** How the toolkit was started: through npm start in a clone, else the installed command. */
export function programOf(io: Io): string {
  return io.env.npm_lifecycle_event === 'start' ? 'npm start --' : 'everflow-toolkit'
}

/**
 * The user's command line with some options replaced: `drop` removes options (with their values) the hint sets
 * anew, `add` appends words. Options given as --name=value are dropped as well.
 */
export function commandLine(io: Io, change: { drop?: string[]; add?: string[] } = {}): string {
  const argv = io.argv ?? []
  const kept: string[] = []
  for (let at = 0; at < argv.length; at++) {
    const word = argv[at]
    const name = word.split('=')[0]
    if (change.drop?.includes(name)) {
      if (!word.includes('=') && !FLAGS.has(name)) at++
      continue
    }
    kept.push(word)
  }
  const variables = Object.keys(io.env).filter(
    (name) => name.startsWith('EVERFLOW_') && !name.startsWith('EVERFLOW_CLI_TEST_') && io.env[name] !== undefined
  )
  const command = [programOf(io), ...[...kept, ...(change.add ?? [])].map(shellWord)].join(' ')
  // A pasted command needs the settings variables it ran with; their values (secrets) are not printed.
  return `${command}${variables.length ? ` (with ${variables.join(', ')} set as for this run)` : ''}`
}

/** Options that take no value. */
const FLAGS = new Set(['--send', '--json', '--details', '--verify', '--help', '-h'])
