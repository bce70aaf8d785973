// History filters ↔ the URL query, so filters survive paging and reloads.
import { OPERATION_STATUSES, type OperationFilters, type OperationKind, type OperationStatus } from '../api/types'

export const DEFAULT_PER_PAGE = 25
export const MAX_PER_PAGE = 100

const DATE = /^\d{4}-\d{2}-\d{2}$/

export function parseFilters(search: URLSearchParams | string): OperationFilters {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search
  const status = q.get('status') ?? ''
  const kind = q.get('kind') ?? ''
  const from = q.get('from') ?? ''
  const to = q.get('to') ?? ''
  return {
    status: (OPERATION_STATUSES as string[]).includes(status) ? (status as OperationStatus) : '',
    kind: kind === 'backup' || kind === 'restore' ? (kind as OperationKind) : '',
    source_id: (q.get('source_id') ?? '').trim(),
    from: DATE.test(from) ? from : '',
    to: DATE.test(to) ? to : '',
    page: positiveInt(q.get('page'), 1, Number.MAX_SAFE_INTEGER),
    per_page: positiveInt(q.get('per_page'), DEFAULT_PER_PAGE, MAX_PER_PAGE),
  }
}

function positiveInt(v: string | null, dflt: number, max: number): number {
  if (!v || !/^\d+$/.test(v)) return dflt
  const n = Number(v)
  if (n < 1) return dflt
  return Math.min(n, max)
}

/** The query string for filters, leaving defaults out so URLs stay short. */
export function filtersToQuery(f: Partial<OperationFilters>): string {
  const q = new URLSearchParams()
  if (f.status) q.set('status', f.status)
  if (f.kind) q.set('kind', f.kind)
  if (f.source_id) q.set('source_id', f.source_id)
  if (f.from) q.set('from', f.from)
  if (f.to) q.set('to', f.to)
  if (f.page && f.page > 1) q.set('page', String(f.page))
  if (f.per_page && f.per_page !== DEFAULT_PER_PAGE) q.set('per_page', String(f.per_page))
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** Changing any filter other than the page goes back to page 1. */
export function withFilter(f: OperationFilters, change: Partial<OperationFilters>): OperationFilters {
  const next = { ...f, ...change }
  const onlyPage = Object.keys(change).every((k) => k === 'page')
  if (!onlyPage) next.page = 1
  return next
}

export function hasActiveFilters(f: OperationFilters): boolean {
  return Boolean(f.status || f.kind || f.source_id || f.from || f.to)
}

export function pageCount(total: number, perPage: number): number {
  if (total <= 0 || perPage <= 0) return 1
  return Math.ceil(total / perPage)
}
