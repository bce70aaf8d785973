// Connection kinds come from the server (/api/connection-kinds) once per page load.
import { useEffect, useState } from 'react'
import { api } from '../api/client'
import type { KindSpec, Service } from '../api/types'

let cache: Promise<KindSpec[]> | null = null

export function loadKinds(): Promise<KindSpec[]> {
  if (!cache) {
    cache = api.connectionKinds().catch((e) => {
      cache = null
      throw e
    })
  }
  return cache
}

export function useKinds(): { kinds: KindSpec[] | undefined; error: Error | undefined } {
  const [kinds, setKinds] = useState<KindSpec[]>()
  const [error, setError] = useState<Error>()
  useEffect(() => {
    let live = true
    loadKinds().then(
      (k) => live && setKinds(k),
      (e) => live && setError(e),
    )
    return () => {
      live = false
    }
  }, [])
  return { kinds, error }
}

export const serviceLabel: Record<Service, string> = { s3: 'S3', mongodb: 'MongoDB', gdrive: 'Google Drive' }

export function kindLabel(kinds: KindSpec[] | undefined, kind: string): string {
  const k = kinds?.find((s) => s.kind === kind)
  if (k) return `${k.label} (${k.role})`
  return kind.replace(/_/g, ' ')
}

/** The one-line summary of where a connection points. */
export function connectionTarget(c: { service: string; settings: Record<string, string>; details?: Record<string, string> }): string {
  const s = c.settings ?? {}
  if (c.service === 's3') return [s.bucket && `s3://${s.bucket}${s.prefix ? `/${s.prefix}` : ''}`, s.endpoint].filter(Boolean).join(' · ')
  if (c.service === 'mongodb') return s.database ? `database ${s.database}` : ''
  if (c.service === 'gdrive') return [s.folder_name && `folder ${s.folder_name}`, s.account_email || c.details?.account_email].filter(Boolean).join(' · ')
  return ''
}
