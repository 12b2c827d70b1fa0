import type { CommandModule } from 'yargs'
import { ControlClient } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'

export const peerRmCommand: CommandModule<object, { addr: string }> = {
  command: 'rm <addr>',
  describe: 'Forget a manual peer (by IP, IP:PORT, multiaddr or peer id) and hang up on it',
  builder: (y) => y.positional('addr', { type: 'string' }) as never,
  handler: async (args) => {
    const { removed } = await (await ControlClient.connect(resolveNodeHome())).removePeer(args.addr)
    for (const p of removed) console.log(`removed ${p.peerId} (${p.addr})`)
  },
}
