// The run's surroundings, output and exit codes: where a command writes, what stops it, and how it ends. Shared by
// every command; imports nothing from them. Every command takes an Io, so tests run them in-process.
import { createRequestClient } from '@segment/actions-core'
import type { RequestClient } from '@segment/actions-core'
import type { HostLookup } from '../../addresses'

/** Where a command writes and what it reads from its surroundings; the real process or a test's stand-ins. */
export interface Io {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown; isTTY?: boolean }
  env: Record<string, string | undefined>
  readStdin: () => string
  /** Aborted on Ctrl-C: a long run stops starting new work. */
  signal?: AbortSignal
  /** Waiting, replaceable so tests need not wait for real. */
  sleep?: (ms: number) => Promise<void>
  /** The request client for Everflow's Network API: core's client, as the settings check gets from the framework. */
  request?: RequestClient
  /** Resolves hosts for the private-address check; Node's resolver unless a test answers instead. */
  lookup?: HostLookup
  /** The command line as the user gave it (after the program's name), for hints that print a command. */
  argv?: string[]
}

export function requestOf(io: Io): RequestClient {
  return io.request ?? createRequestClient()
}

/** Bad usage, a bad file or bad settings: exit code 2, with this message. */
export class UsageError extends Error {}

/** 130 after Ctrl-C: the shell's convention for a command stopped by SIGINT (128 + 2). */
export const EXIT = { ok: 0, someFailed: 1, usage: 2, interrupted: 130 } as const

/** The abort reason the command line gives when stdout is closed (a reader such as head went away). */
export const OUTPUT_CLOSED = 'output closed'

/** What stopped the run: Ctrl-C, or stdout closed under it. */
export function stopCause(io: Io): string {
  return io.signal?.reason === OUTPUT_CLOSED ? OUTPUT_CLOSED : 'Ctrl-C'
}

/** The exit code of a run that was stopped before its end: 130 after Ctrl-C; 1 when its output was closed. */
export function stoppedCode(io: Io): number {
  return stopCause(io) === OUTPUT_CLOSED ? EXIT.someFailed : EXIT.interrupted
}
