import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

// The dev server proxies the API to the backupd service (or to the mock in
// mock/server.mjs): BACKUPD_API=http://127.0.0.1:8080 npm run dev
const api = process.env.BACKUPD_API ?? 'http://127.0.0.1:8787'

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': api,
      '/oauth': api,
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
})
