import type { Command } from 'commander'
import { demandSubcommand } from '../errors.ts'
import { addPeerAddCommand } from './peer-add.ts'
import { addPeerLsCommand } from './peer-ls.ts'
import { addPeerRmCommand } from './peer-rm.ts'

export function addPeerCommand(program: Command): void {
  const peer = program
    .command('peer')
    .description("Add, list and remove the daemon's peers")
    .helpCommand(false)
  addPeerAddCommand(peer)
  addPeerLsCommand(peer)
  addPeerRmCommand(peer)
  demandSubcommand(peer, 'name a peer command: add, ls or rm')
}
