import { InvalidArgumentError, Option } from 'commander'

/** `--repo-type`; a new Option for each command that takes it. */
export function repoTypeOption(): Option {
  return new Option('--repo-type <type>', 'Type of the repo')
    .choices(['model', 'dataset', 'space'])
    .default('model')
}

export function jsonOption(): Option {
  return new Option('--json', 'Print JSON').default(false)
}

/** Parses a number option: a value that is not a number is a usage error rather than NaN. */
export function parseNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('Not a number.')
  return n
}
