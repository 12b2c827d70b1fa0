import type { Options } from 'yargs'
import type { RepoType } from '../../store/hf-cache/index.ts'

export const repoTypeOption: Options = {
  type: 'string',
  choices: ['model', 'dataset', 'space'],
  default: 'model',
  describe: 'Type of the repo',
}

export const jsonOption: Options = { type: 'boolean', default: false, describe: 'Print JSON' }

export function asRepoType(v: unknown): RepoType {
  return (v ?? 'model') as RepoType
}
