import type { Command } from 'commander'
import { ControlClient } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'

export function addPeerRmCommand(peer: Command): void {
  peer
    .command('rm')
    .description('Forget a manual peer (by IP, IP:PORT, multiaddr or peer id) and hang up on it')
    .argument('<addr>')
    .action(removePeer)
}

async function removePeer(addr: string): Promise<void> {
  const { removed } = await (await ControlClient.connect(resolveNodeHome())).removePeer(addr)
  for (const p of removed) console.log(`removed ${p.peerId} (${p.addr})`)
}
