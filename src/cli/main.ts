import { Command, CommanderError } from 'commander'
import { demandSubcommand, exitCodeOf, formatError, usageErrorOf } from './errors.ts'

/** Adds one command (and its subcommands) to the program. */
type AddCommand = (program: Command) => void

/**
 * The commands, in the order --help lists them, each loaded only when needed: a command line that names one
 * loads that one alone. Loading all of them (and so the daemon's and the Hub client's modules, undici,
 * libp2p's pnet) cost ~0.3 CPU-s before any work, a tenth of what `model add` spends on 1 GiB.
 */
const COMMANDS: Record<string, () => Promise<AddCommand>> = {
  start: async () => (await import('./commands/start.ts')).addStartCommand,
  stop: async () => (await import('./commands/stop.ts')).addStopCommand,
  status: async () => (await import('./commands/status.ts')).addStatusCommand,
  peer: async () => (await import('./commands/peer.ts')).addPeerCommand,
  model: async () => (await import('./commands/model.ts')).addModelCommand,
  uninstall: async () => (await import('./commands/uninstall.ts')).addUninstallCommand,
  'swarm-key': async () => (await import('./commands/swarm-key.ts')).addSwarmKeyCommand,
}

/** The command that argv names, or every command (for --help, and to reject an unknown one). */
async function commandsFor(argv: string[]): Promise<AddCommand[]> {
  const named = Object.hasOwn(COMMANDS, argv[0] ?? '') ? COMMANDS[argv[0]] : undefined
  return named !== undefined ? [await named()] : Promise.all(Object.values(COMMANDS).map((load) => load()))
}

/** Runs the CLI; sets process.exitCode rather than exiting so that pending output is flushed. */
export async function main(argv: string[]): Promise<void> {
  // Set before the commands are added: each subcommand inherits them, and the exit override below (commander
  // throws its errors rather than exiting).
  const program = new Command('hffs-node')
    .usage('<command>')
    .description('Share the Hugging Face Hub cache between machines.')
    .helpCommand(false) // not inherited: each command group turns it off too
    .configureHelp({ helpWidth: Math.min(110, process.stdout.columns ?? 110) })
    // Commander's errors (and the help it shows on stderr for a missing subcommand) become one line below.
    .configureOutput({ writeErr: () => {} })
  demandSubcommand(program, 'name a command; see hffs-node --help')
  for (const add of await commandsFor(argv)) add(program)
  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') return
    const error = err instanceof CommanderError ? usageErrorOf(err) : err
    console.error(`hffs-node: ${formatError(error)}`)
    process.exitCode = exitCodeOf(error)
  }
}
