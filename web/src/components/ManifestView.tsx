// The manifest stored beside an archive. Its exact shape belongs to the
// executors, so this reads what it recognises and shows the rest as it is.
import { useState } from 'react'
import type { Manifest } from '../api/types'
import { formatBytes, formatCount, formatDateTime } from '../lib/format'

const ENTRY_KEYS = ['entries', 'objects', 'files', 'collections']
const SHOWN_COLUMNS = ['key', 'name', 'path', 'size', 'bytes', 'documents', 'sha256', 'content_type', 'last_modified']
const MAX_ROWS = 100

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function manifestEntries(m: Manifest): { name: string; rows: Record<string, unknown>[] } | null {
  for (const k of ENTRY_KEYS) {
    const v = m[k]
    if (Array.isArray(v) && v.every(isObj)) return { name: k, rows: v as Record<string, unknown>[] }
  }
  return null
}

/** Top-level facts (scalars, and scalars one level down, e.g. archive.sha256). */
export function manifestFacts(m: Manifest): [string, string][] {
  const out: [string, string][] = []
  const add = (k: string, v: unknown) => {
    if (v === null || v === undefined || v === '') return
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out.push([k, display(k, v)])
  }
  for (const [k, v] of Object.entries(m)) {
    if (ENTRY_KEYS.includes(k) && Array.isArray(v)) continue
    if (isObj(v)) for (const [k2, v2] of Object.entries(v)) add(`${k}.${k2}`, v2)
    else add(k, v)
  }
  return out
}

function display(key: string, v: string | number | boolean): string {
  const k = key.toLowerCase()
  if (typeof v === 'number' && (k.endsWith('bytes') || k.endsWith('size'))) return `${formatBytes(v)} (${formatCount(v)} bytes)`
  if (typeof v === 'number') return formatCount(v)
  if (typeof v === 'string' && /(_at|timestamp|time|date|modified)$/.test(k) && !Number.isNaN(Date.parse(v))) return formatDateTime(v)
  return String(v)
}

function cell(col: string, v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'number' && (col === 'size' || col === 'bytes')) return formatBytes(v)
  if (typeof v === 'number') return formatCount(v)
  if (col === 'last_modified' && typeof v === 'string') return formatDateTime(v)
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

/** "1,234", or "first 100 of 20,000" when the server sent a preview. */
export function entryCount(m: Manifest, shown: number): string {
  const totals = m.totals
  const total = isObj(totals) && typeof totals.entries === 'number' ? totals.entries : shown
  return m.entries_truncated === true && total > shown ? `first ${formatCount(shown)} of ${formatCount(total)}` : formatCount(total)
}

export function ManifestView({ manifest }: { manifest: Manifest }) {
  const [raw, setRaw] = useState(false)
  const facts = manifestFacts(manifest)
  const entries = manifestEntries(manifest)
  const cols = entries ? SHOWN_COLUMNS.filter((c) => entries.rows.some((r) => r[c] !== undefined && r[c] !== null && r[c] !== '')) : []
  return (
    <div className="stack" data-testid="restore-manifest">
      {facts.length > 0 && (
        <dl className="kv small">
          {facts.map(([k, v]) => (
            <div key={k} style={{ display: 'contents' }}>
              <dt className="mono">{k}</dt>
              <dd className="break">{v}</dd>
            </div>
          ))}
        </dl>
      )}
      {entries && (
        <div className="stack tight">
          <h3>
            {entries.name} ({entryCount(manifest, entries.rows.length)})
          </h3>
          <div className="table-wrap card" style={{ boxShadow: 'none', maxHeight: 360, overflow: 'auto' }}>
            <table className="table" data-testid="manifest-entries">
              <thead>
                <tr>
                  {cols.map((c) => (
                    <th key={c} className={c === 'size' || c === 'bytes' || c === 'documents' ? 'num' : undefined}>
                      {c.replace(/_/g, ' ')}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {entries.rows.slice(0, MAX_ROWS).map((r, i) => (
                  <tr key={i} data-testid="manifest-entry">
                    {cols.map((c) => (
                      <td key={c} className={c === 'size' || c === 'bytes' || c === 'documents' ? 'num nowrap' : c === 'sha256' ? 'mono small' : 'mono small break'}>
                        {c === 'sha256' ? String(r[c] ?? '').slice(0, 16) + (r[c] ? '…' : '') : cell(c, r[c])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {entries.rows.length > MAX_ROWS && <p className="muted small">Showing the first {MAX_ROWS} of {formatCount(entries.rows.length)}.</p>}
        </div>
      )}
      <div>
        <button type="button" className="btn ghost sm" onClick={() => setRaw((r) => !r)} aria-expanded={raw} data-testid="manifest-raw-toggle">
          {raw ? 'Hide' : 'Show'} the manifest as JSON
        </button>
        {raw && <pre className="pre" style={{ marginTop: 8 }}>{JSON.stringify(manifest, null, 2).slice(0, 200_000)}</pre>}
      </div>
    </div>
  )
}
