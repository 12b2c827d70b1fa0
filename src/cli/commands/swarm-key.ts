import type { CommandModule } from 'yargs'
import { generateSwarmKey } from '../../node/swarm-key.ts'

const generateCommand: CommandModule = {
  command: 'generate',
  describe: 'Print a new swarm key (libp2p pnet format) on stdout: hffs-node swarm-key generate > swarm.key',
  handler: () => {
    process.stdout.write(generateSwarmKey())
  },
}

export const swarmKeyCommand: CommandModule = {
  command: 'swarm-key <command>',
  describe: 'Private swarms: make the pre-shared key that `start --swarm-key FILE` takes',
  builder: (y) => y.command(generateCommand).demandCommand(1, 'name a swarm-key command: generate'),
  handler: () => {},
}
