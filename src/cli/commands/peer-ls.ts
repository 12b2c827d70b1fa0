import type { Command } from 'commander'
import { ControlClient } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { printTable } from '../table.ts'
import { jsonOption } from './shared-options.ts'

export function addPeerLsCommand(peer: Command): void {
  peer
    .command('ls')
    .description('List known peers: how found, connected or not, latency, trusted or not, addresses')
    .addOption(jsonOption())
    .action(listPeers)
}

async function listPeers(args: { json: boolean }): Promise<void> {
  const peers = await (await ControlClient.connect(resolveNodeHome())).peers()
  if (args.json) {
    console.log(JSON.stringify(peers, null, 2))
    return
  }
  if (peers.length === 0) {
    console.log('no peers')
    return
  }
  printTable(
    ['PEER ID', 'CONNECTED', 'LATENCY', 'FOUND', 'TRUSTED', 'ADDRESSES'],
    peers.map((p) => [
      p.peerId,
      p.connected ? 'yes' : 'no',
      p.latencyMs === null ? '-' : `${p.latencyMs} ms`,
      p.sources.join(',') || '-',
      p.trust === null ? 'no' : `yes (${p.trust})`,
      p.addresses.join(' '),
    ]),
  )
}
