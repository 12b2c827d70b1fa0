import type { CommandModule } from 'yargs'
import { ControlClient } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { printTable } from '../table.ts'
import { jsonOption } from './shared-options.ts'

export const peerLsCommand: CommandModule<object, { json: boolean }> = {
  command: 'ls',
  describe: 'List known peers: how found, connected or not, latency, trusted or not, addresses',
  builder: (y) => y.option('json', jsonOption) as never,
  handler: async (args) => {
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
  },
}
