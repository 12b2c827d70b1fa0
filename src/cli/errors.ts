import type { Command, CommanderError } from 'commander'

/** Names of errors that are the user's to fix: printed as one line, no stack. */
const EXPECTED = new Set([
  'CacheNotFoundError',
  'RepoNotFoundError',
  'RevisionNotFoundError',
  'EntryNotFoundError',
  'UnsafePathError',
  'InvalidRepoIdError',
  'ConfigError',
  'UsageError',
  'GatedRepoError',
  'OfflineError',
  'HubUnreachableError',
  'DiskFullError',
  'NotRunningError',
  'ControlApiError',
  'DaemonStartError',
  'DaemonStopError',
  'AlreadyRunningError',
  'HttpListenError',
  'PeerAddressError',
  'UntrustedListingError',
])

/** Exit code of a command that needs the daemon when none runs (as LSB's `status`: program is not running). */
export const NOT_RUNNING_EXIT_CODE = 3

export class UsageError extends Error {
  override name = 'UsageError'
}

/** Commander's own error (unknown command or option, missing argument, bad value) as one line, exit 2. */
export function usageErrorOf(err: CommanderError): UsageError {
  // Its messages start with "error: " and put a suggestion ("(Did you mean status?)") on a second line.
  return new UsageError(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '))
}

/**
 * Makes `command` named without a subcommand (`hffs-node model`) a usage error saying `message`; commander
 * would show the command's help on stderr and exit 1.
 */
export function demandSubcommand(command: Command, message: string): Command {
  return command.exitOverride((err) => {
    throw err.code === 'commander.help' ? new UsageError(message) : err
  })
}

/** 2 for usage errors, 3 when the daemon is not running, 1 for everything else. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return 2
  if (err instanceof Error && err.name === 'NotRunningError') return NOT_RUNNING_EXIT_CODE
  return 1
}

/** One line for the terminal; a stack only for bugs, and only with HFFS_DEBUG=1. */
export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  if (EXPECTED.has(err.name)) return err.message
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EACCES' || code === 'EPERM')
    return `permission denied: ${(err as NodeJS.ErrnoException).path ?? err.message}`
  if (code === 'ENOSPC' || code === 'EDQUOT') return `disk full: ${err.message}`
  if (process.env.HFFS_DEBUG === '1' && err.stack !== undefined) return err.stack
  return `${err.message} (${err.name}; set HFFS_DEBUG=1 for details)`
}
