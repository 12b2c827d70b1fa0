/** An answer in the Hub's error format: status, `X-Error-Code`, `X-Error-Message`, `{"error": ...}`. */
export class HubHttpError extends Error {
  override name = 'HubHttpError'
  readonly status: number
  readonly code: string | undefined
  readonly headers: Record<string, string>

  constructor(
    status: number,
    code: string | undefined,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/** The Hub answers 401 to anonymous callers so as not to tell a private repo from a missing one. */
export const repoNotFound = (authenticated: boolean): HubHttpError =>
  new HubHttpError(authenticated ? 404 : 401, 'RepoNotFound', 'Repository not found')

export const revisionNotFound = (revision: string): HubHttpError =>
  new HubHttpError(404, 'RevisionNotFound', `Invalid rev id: ${revision}`)

export const entryNotFound = (commit: string): HubHttpError =>
  new HubHttpError(404, 'EntryNotFound', 'Entry not found', { 'X-Repo-Commit': commit })

export const invalidCredentials = (): HubHttpError =>
  new HubHttpError(401, undefined, 'Invalid credentials in Authorization header')

export const gatedRepo = (label: string, authenticated: boolean): HubHttpError =>
  authenticated
    ? new HubHttpError(
        403,
        'GatedRepo',
        `Access to ${label} is restricted and you are not in the authorized list. Visit the repo page to ask for access.`,
      )
    : new HubHttpError(
        401,
        'GatedRepo',
        `Access to ${label} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      )

export const badRequest = (message: string): HubHttpError => new HubHttpError(400, undefined, message)
