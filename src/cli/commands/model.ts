import type { CommandModule } from 'yargs'
import { modelAddCommand } from './model-add.ts'
import { modelLsCommand } from './model-ls.ts'
import { modelRmCommand } from './model-rm.ts'

export const modelCommand: CommandModule = {
  command: 'model <command>',
  describe: 'List, download and remove models in the Hugging Face cache',
  builder: (y) =>
    y
      .command(modelLsCommand)
      .command(modelAddCommand)
      .command(modelRmCommand)
      .demandCommand(1, 'name a model command: ls, add or rm'),
  handler: () => {},
}
