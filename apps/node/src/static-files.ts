import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { extname, join, resolve, sep } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json'
}

/**
 * Serves a folder of static files (the built demo app) for GET and HEAD:
 * `/` is `index.html`, paths never leave the folder, unknown files fall
 * through. Resolves true when it answered the request.
 */
export function createStaticFiles (root: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const base = resolve(root)
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    let path: string
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')
    } catch {
      return false
    }
    if (path.includes('\0')) return false
    const file = resolve(join(base, path.endsWith('/') ? `${path}index.html` : path))
    if (file !== base && !file.startsWith(base + sep)) return false
    const info = await stat(file).catch(() => undefined)
    if (info === undefined || !info.isFile()) return false
    res.writeHead(200, {
      'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': info.size,
      // Built assets carry a content hash in their names; the page itself must stay fresh.
      'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff'
    })
    if (req.method === 'HEAD') {
      res.end()
      return true
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(file)
      stream.once('error', () => { res.destroy(); done() })
      stream.once('end', done)
      stream.pipe(res)
    })
    return true
  }
}
