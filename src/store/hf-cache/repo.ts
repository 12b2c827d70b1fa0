import { InvalidRepoIdError, quoteForMessage } from './errors.ts'

/** The kinds of Hub repository that have a folder in the cache. */
export type RepoType = 'model' | 'dataset' | 'space'

/** A Hub repository: its type and its id (`name` or `org/name`). */
export interface RepoRef {
  type: RepoType
  id: string
}

/** Every repo type, in the order huggingface_hub lists them. */
export const REPO_TYPES: readonly RepoType[] = ['model', 'dataset', 'space']

/** Separator between the type and the id parts of a repo folder name. */
export const REPO_ID_SEPARATOR = '--'

// huggingface_hub's REPO_ID_REGEX (utils/_validators.py), ASCII only like its re.ASCII flag.
const REPO_ID_PATTERN = /^(\b[\w\-.]+\b\/)?\b[\w\-.]{1,96}\b$/

/** Checks a repo id the way huggingface_hub's `validate_repo_id` does; returns it or throws InvalidRepoIdError. */
export function validateRepoId(id: string): string {
  const bad = (why: string): never => {
    throw new InvalidRepoIdError(`Invalid repo id ${quoteForMessage(id)}: ${why}`)
  }
  if (typeof id !== 'string') bad('not a string')
  if (id.split('/').length > 2) bad("must be 'name' or 'org/name'")
  if (!REPO_ID_PATTERN.test(id)) {
    bad("use letters, digits, '-', '_' or '.', not at the start or end, at most 96 characters")
  }
  if (id.includes('--') || id.includes('..')) bad("cannot contain '--' or '..'")
  if (id.endsWith('.git')) bad("cannot end with '.git'")
  return id
}

/** Checks both the type and the id of a repo; returns it or throws InvalidRepoIdError. */
export function validateRepo(repo: RepoRef): RepoRef {
  if (!REPO_TYPES.includes(repo.type)) {
    throw new InvalidRepoIdError(`Invalid repo type ${quoteForMessage(String(repo.type))}`)
  }
  validateRepoId(repo.id)
  return repo
}

/** The cache folder name of a repo: `models--org--name`, `datasets--name`, `spaces--org--name`. */
export function repoFolderName(repo: RepoRef): string {
  validateRepo(repo)
  return [`${repo.type}s`, ...repo.id.split('/')].join(REPO_ID_SEPARATOR)
}

/** The repo a cache folder name stands for, or null when the name is not a valid repo folder. */
export function parseRepoFolderName(name: string): RepoRef | null {
  const cut = name.indexOf(REPO_ID_SEPARATOR)
  if (cut < 0) return null
  const plural = name.slice(0, cut)
  const type = plural.endsWith('s') ? plural.slice(0, -1) : ''
  if (!(REPO_TYPES as readonly string[]).includes(type)) return null
  const id = name
    .slice(cut + REPO_ID_SEPARATOR.length)
    .split(REPO_ID_SEPARATOR)
    .join('/')
  try {
    validateRepoId(id)
  } catch {
    return null
  }
  return { type: type as RepoType, id }
}
