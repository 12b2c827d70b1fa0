import type { CommandModule } from 'yargs'
import { NotRunningError } from '../../node/control-client.ts'
import { resolveNodeHome } from '../../node/home.ts'
import { stopDaemon } from '../../node/stop-daemon.ts'

export const stopCommand: CommandModule = {
  command: 'stop',
  describe: 'Stop the daemon gracefully and wait until it has exited (exit 0 also when none runs)',
  handler: async () => {
    try {
      const { pid } = await stopDaemon(resolveNodeHome())
      console.log(`stopped (pid ${pid})`)
    } catch (err) {
      if (!(err instanceof NotRunningError)) throw err
      console.log('not running')
    }
  },
}
