// Light/dark theme: the system's by default, the user's choice once made
// (remembered in localStorage, applied as html[data-theme]).
import { createContext, createElement, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'

export type ThemeChoice = 'light' | 'dark' | 'system'
const KEY = 'backupd-theme'

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY)
    return v === 'light' || v === 'dark' ? v : 'system'
  } catch {
    return 'system'
  }
}

function systemDark(): boolean {
  return typeof window !== 'undefined' && window.matchMedia?.('(prefers-color-scheme: dark)').matches
}

function useThemeState() {
  const [choice, setChoice] = useState<ThemeChoice>(stored)
  const [sysDark, setSysDark] = useState(systemDark)

  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)')
    if (!mq) return
    const on = () => setSysDark(mq.matches)
    mq.addEventListener('change', on)
    return () => mq.removeEventListener('change', on)
  }, [])

  const effective: 'light' | 'dark' = choice === 'system' ? (sysDark ? 'dark' : 'light') : choice

  useEffect(() => {
    // The theme in effect, whatever decided it: the stylesheet keys on it.
    document.documentElement.dataset.theme = effective
  }, [effective])

  useEffect(() => {
    try {
      if (choice === 'system') localStorage.removeItem(KEY)
      else localStorage.setItem(KEY, choice)
    } catch {
      /* private mode: the choice lasts for this page only */
    }
  }, [choice])
  const toggle = useCallback(() => setChoice(effective === 'dark' ? 'light' : 'dark'), [effective])
  return useMemo(() => ({ choice, effective, setChoice, toggle }), [choice, effective, toggle])
}

type Theme = ReturnType<typeof useThemeState>
const ThemeContext = createContext<Theme | null>(null)

export function ThemeProvider({ children }: { children: ReactNode }) {
  return createElement(ThemeContext.Provider, { value: useThemeState() }, children)
}

export function useTheme(): Theme {
  const t = useContext(ThemeContext)
  if (!t) throw new Error('useTheme outside ThemeProvider')
  return t
}
