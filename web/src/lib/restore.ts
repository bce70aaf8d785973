// The restore wizard's decisions, kept out of React so they can be tested.
import type { Conflict, ConnectionKind, Preflight, RestoreRequest, Service } from '../api/types'

export type TargetMode = 'original' | 'connection' | 'typed'

export interface RestoreChoice {
  mode: TargetMode
  originalId: string
  connectionId: string
  kind: ConnectionKind
  typed: { settings: Record<string, string>; secrets: Record<string, string> }
  prefix: string
  database: string
  conflict: Conflict
  confirmOriginal: boolean
}

export function conflictsFor(service: Service): { value: Conflict; label: string; help: string }[] {
  if (service === 'mongodb') {
    return [
      { value: 'insert', label: 'Insert alongside', help: 'Existing documents stay; restored ones are added (a duplicate _id fails that document).' },
      { value: 'drop', label: 'Drop target collections first', help: 'Like mongorestore --drop: each collection in the archive replaces the one in the target.' },
    ]
  }
  return [
    { value: 'skip', label: 'Skip existing objects', help: 'Keys that already exist in the target are left as they are.' },
    { value: 'overwrite', label: 'Overwrite existing objects', help: 'Keys that already exist are replaced by the archived version.' },
  ]
}

export function defaultConflict(service: Service): Conflict {
  return service === 'mongodb' ? 'insert' : 'skip'
}

/**
 * Whether the restore writes over the very place the data came from: the
 * original connection with no other prefix (S3) or the same database
 * (MongoDB). The server's preflight has the last word (same_as_original).
 */
export function overOriginal(c: RestoreChoice, service: Service, originalDatabase: string, preflight?: Preflight | null): boolean {
  if (preflight?.same_as_original) return true
  if (c.mode !== 'original') return false
  if (service === 'mongodb') {
    const db = c.database.trim()
    return db === '' || db === originalDatabase
  }
  return c.prefix.trim() === ''
}

export function buildRestoreRequest(c: RestoreChoice, service: Service): RestoreRequest {
  const target: RestoreRequest['target'] =
    c.mode === 'original'
      ? { connection_id: c.originalId }
      : c.mode === 'connection'
        ? { connection_id: c.connectionId }
        : { kind: c.kind, settings: c.typed.settings, secrets: c.typed.secrets }
  const req: RestoreRequest = { target, conflict: c.conflict, overwrite_original: c.confirmOriginal }
  if (service === 's3' && c.prefix.trim()) req.prefix = c.prefix.trim()
  if (service === 'mongodb' && c.database.trim()) req.database = c.database.trim()
  return req
}

/** Problems that keep the wizard from leaving the target step. */
export function targetProblems(c: RestoreChoice, service: Service): Record<string, string> {
  const errs: Record<string, string> = {}
  if (c.mode === 'connection' && !c.connectionId) errs.connection_id = 'Choose a connection to restore into.'
  if (service === 's3' && (c.prefix.startsWith('/') || c.prefix.includes('..'))) errs.prefix = 'The prefix may not start with / or contain ..'
  if (service === 'mongodb' && c.database && !/^[^/\\. "$*<>:|?]{1,63}$/.test(c.database.trim())) {
    errs.database = 'A database name has up to 63 characters, without spaces or / \\ . " $ * < > : | ?'
  }
  return errs
}

/** Why Start is not possible yet, or '' when it is. */
export function startBlocker(preflight: Preflight | null | undefined, needsConfirm: boolean, confirmed: boolean): string {
  if (!preflight) return 'Run the check first.'
  if (!preflight.writable) return preflight.writable_reason || 'The target is not writable.'
  if (needsConfirm && !confirmed) return 'Confirm that you want to restore over the original data.'
  return ''
}
