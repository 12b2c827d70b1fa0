import yargs, { type Argv, type CommandModule } from 'yargs'
import { exitCodeOf, formatError, UsageError } from './errors.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argument types
type AnyCommand = CommandModule<any, any>

/**
 * The commands, in the order --help lists them, each loaded only when needed: a command line that names one
 * loads that one alone. Loading all of them (and so the daemon's and the Hub client's modules, undici,
 * libp2p's pnet) cost ~0.3 CPU-s before any work, a tenth of what `model add` spends on 1 GiB.
 */
const COMMANDS: Record<string, () => Promise<AnyCommand>> = {
  start: async () => (await import('./commands/start.ts')).startCommand,
  stop: async () => (await import('./commands/stop.ts')).stopCommand,
  status: async () => (await import('./commands/status.ts')).statusCommand,
  peer: async () => (await import('./commands/peer.ts')).peerCommand,
  model: async () => (await import('./commands/model.ts')).modelCommand,
  uninstall: async () => (await import('./commands/uninstall.ts')).uninstallCommand,
  'swarm-key': async () => (await import('./commands/swarm-key.ts')).swarmKeyCommand,
}

/** The command that argv names, or every command (for --help, and to reject an unknown one). */
async function commandsFor(argv: string[]): Promise<AnyCommand[]> {
  const named = Object.hasOwn(COMMANDS, argv[0] ?? '') ? COMMANDS[argv[0]] : undefined
  return named !== undefined ? [await named()] : Promise.all(Object.values(COMMANDS).map((load) => load()))
}

/** Runs the CLI; sets process.exitCode rather than exiting so that pending output is flushed. */
export async function main(argv: string[]): Promise<void> {
  let parser: Argv = yargs(argv)
    .scriptName('hffs-node')
    .usage('$0 <command>\n\nShare the Hugging Face Hub cache between machines.')
  for (const command of await commandsFor(argv)) parser = parser.command(command)
  parser = parser
    .demandCommand(1, 'name a command; see hffs-node --help')
    .strict()
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((msg, err) => {
      throw err ?? new UsageError(msg)
    })
  try {
    await parser.parseAsync()
  } catch (err) {
    console.error(`hffs-node: ${formatError(err)}`)
    process.exitCode = exitCodeOf(err)
  }
}
