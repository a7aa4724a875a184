// The toolkit's command line: which command runs, the help text, and how errors become exit codes.
import { IntegrationError } from '@segment/actions-core'
import { backfill, BACKFILL_HELP } from './backfill'
import { checkSettings } from './check-settings'
import { UsageError } from './shared/io'
import type { Io } from './shared/io'
import { SETTINGS_HELP } from './shared/settings'
import { preview, PREVIEW_HELP } from './preview'
import { verify, VERIFY_HELP } from './verify'

export const USAGE = `Usage: everflow-toolkit [command] [options]     (from a clone: npm start -- [command] [options])

Everflow's postbacks, as Segment's Everflow (Actions) destination sends them, through the same code Segment runs.

Commands:
  preview          (or no command) show the postback for each event; --send sends it
  check-settings   run the destination's settings check (as on saving the settings in Segment)
  backfill         send an NDJSON file of events concurrently, with progress and a file of failures
  verify [ID ...]  ask Everflow's Network API what it recorded for transaction ids

Preview options:
${PREVIEW_HELP}

Backfill options:
${BACKFILL_HELP}

Verify options:
${VERIFY_HELP}

Every command:
${SETTINGS_HELP}
  --help           this text

Exit codes:
  preview, backfill  0 every event sent (or would be) or not subscribed; 1 some event failed or, with --verify,
                     is not as expected in Everflow; 2 bad usage or settings
  check-settings     0 all settings passed; 1 Everflow's API or DNS could not answer (try again); 2 a setting is wrong
  verify             0 every transaction as expected; 1 some click missing, conversion rejected, missing or
                     recorded twice, or the API could not answer; 2 bad usage, or the API Key was refused
  every command      130 stopped by Ctrl-C (after the summary; a second Ctrl-C ends at once); 1 stopped because
                     the output was closed (e.g. | head)`

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  preview,
  'check-settings': checkSettings,
  backfill,
  verify
}

/** Runs one command line; returns the exit code. Never exits the process itself. */
export async function run(argv: string[], io: Io): Promise<number> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(`${USAGE}\n`)
      return 0
    }
    const [first, ...rest] = argv
    const command = first !== undefined && !first.startsWith('-') ? COMMANDS[first] : undefined
    if (first !== undefined && !first.startsWith('-') && !command) {
      throw new UsageError(
        `Unknown command '${first}'. Commands: preview, check-settings, backfill, verify (or none, to preview).`
      )
    }
    const withArgv = { ...io, argv }
    return await (command ? command(rest, withArgv) : preview(argv, withArgv))
  } catch (error) {
    const known =
      error instanceof UsageError ||
      error instanceof IntegrationError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    const message = known ? (error as Error).message : `unexpected error: ${(error as Error).stack ?? String(error)}`
    io.stderr.write(`${message}\n${error instanceof IntegrationError ? '' : 'Run with --help for usage.\n'}`)
    return 2
  }
}
