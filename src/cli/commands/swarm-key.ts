import type { Command } from 'commander'
import { demandSubcommand } from '../errors.ts'
import { generateSwarmKey } from '../../node/swarm-key.ts'

export function addSwarmKeyCommand(program: Command): void {
  const swarmKey = program
    .command('swarm-key')
    .description('Private swarms: make the pre-shared key that `start --swarm-key FILE` takes')
    .helpCommand(false)
  swarmKey
    .command('generate')
    .description(
      'Print a new swarm key (libp2p pnet format) on stdout: hffs-node swarm-key generate > swarm.key',
    )
    .action(() => {
      process.stdout.write(generateSwarmKey())
    })
  demandSubcommand(swarmKey, 'name a swarm-key command: generate')
}
