import yargs, { type Argv } from 'yargs'
import { modelCommand } from './commands/model.ts'
import { exitCodeOf, formatError, UsageError } from './errors.ts'
import { peerCommand } from './commands/peer.ts'
import { startCommand } from './commands/start.ts'
import { statusCommand } from './commands/status.ts'
import { stopCommand } from './commands/stop.ts'
import { swarmKeyCommand } from './commands/swarm-key.ts'
import { uninstallCommand } from './commands/uninstall.ts'

/** Runs the CLI; sets process.exitCode rather than exiting so that pending output is flushed. */
export async function main(argv: string[]): Promise<void> {
  const parser: Argv = yargs(argv)
    .scriptName('hffs-node')
    .usage('$0 <command>\n\nShare the Hugging Face Hub cache between machines.')
    .command(startCommand)
    .command(stopCommand)
    .command(statusCommand)
    .command(peerCommand)
    .command(modelCommand)
    .command(uninstallCommand)
    .command(swarmKeyCommand)
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
