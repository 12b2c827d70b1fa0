import type { RepoRef } from '../../store/hf-cache/index.ts'

const URL_PREFIX: Record<RepoRef['type'], string> = { model: '', dataset: 'datasets/', space: 'spaces/' }

/** `/api/models/org/name`, `/api/datasets/...`: the API root of a repo. */
export function apiRepoPath(repo: RepoRef): string {
  return `/api/${repo.type}s/${repo.id}`
}

/** The resolve URL path of a file, as huggingface_hub builds it (revision quoted whole, path segments quoted). */
export function resolvePath(repo: RepoRef, revision: string, file: string): string {
  const quotedFile = file.split('/').map(encodeURIComponent).join('/')
  return `/${URL_PREFIX[repo.type]}${repo.id}/resolve/${encodeURIComponent(revision)}/${quotedFile}`
}
