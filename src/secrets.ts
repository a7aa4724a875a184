import type { Settings } from './generated-types'

/** The settings that must never appear in anything the destination reports. */
export function secretsOf(settings: Settings): string[] {
  return [settings.verificationToken?.trim(), settings.apiKey?.trim()].filter((secret): secret is string => !!secret)
}

/** Replaces every secret in text with ***. */
export function redact(text: string, secrets: string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join('***'), text)
}

/** Removes every secret from an error's message and stack, keeping its class, code and status. */
export function redactError<T>(error: T, secrets: string[]): T {
  if (error instanceof Error) {
    error.message = redact(error.message, secrets)
    if (error.stack) error.stack = redact(error.stack, secrets)
  }
  return error
}
