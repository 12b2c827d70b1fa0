import type { CommandModule } from 'yargs'
import { peerAddCommand } from './peer-add.ts'
import { peerLsCommand } from './peer-ls.ts'
import { peerRmCommand } from './peer-rm.ts'

export const peerCommand: CommandModule = {
  command: 'peer <command>',
  describe: "Add, list and remove the daemon's peers",
  builder: (y) =>
    y
      .command(peerAddCommand)
      .command(peerLsCommand)
      .command(peerRmCommand)
      .demandCommand(1, 'name a peer command: add, ls or rm'),
  handler: () => {},
}
