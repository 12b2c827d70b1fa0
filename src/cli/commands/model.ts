import type { Command } from 'commander'
import { demandSubcommand } from '../errors.ts'
import { addModelAddCommand } from './model-add.ts'
import { addModelLsCommand } from './model-ls.ts'
import { addModelRmCommand } from './model-rm.ts'

export function addModelCommand(program: Command): void {
  const model = program
    .command('model')
    .description('List, download and remove models in the Hugging Face cache')
    .helpCommand(false)
  addModelLsCommand(model)
  addModelAddCommand(model)
  addModelRmCommand(model)
  demandSubcommand(model, 'name a model command: ls, add or rm')
}
