import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStaticFiles } from '../src/static-files.js'
import { tempDir } from './support.js'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

describe('static files for the demo (--demo-dir)', () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    const dir = tempDir()
    const root = join(dir, 'site')
    mkdirSync(join(root, 'assets'), { recursive: true })
    writeFileSync(join(root, 'index.html'), '<h1>demo</h1>')
    writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log(1)')
    writeFileSync(join(dir, 'secret.txt'), 'outside the folder')
    const serve = createStaticFiles(root)
    server = createServer((req, res) => {
      void serve(req, res).then((answered) => { if (!answered) { res.writeHead(404); res.end('nope') } })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)) })

  it('serves index.html for / and assets with long caching', async () => {
    const index = await fetch(`${base}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toContain('text/html')
    expect(index.headers.get('cache-control')).toBe('no-cache')
    expect(await index.text()).toBe('<h1>demo</h1>')
    const asset = await fetch(`${base}/assets/app-1234.js`)
    expect(asset.headers.get('content-type')).toContain('text/javascript')
    expect(asset.headers.get('cache-control')).toContain('immutable')
  })

  it('never serves a file outside the folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00index.html']) {
      const res = await fetch(`${base}${path}`)
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toContain('outside the folder')
    }
  })

  it('lets unknown paths and other methods fall through', async () => {
    expect((await fetch(`${base}/missing.js`)).status).toBe(404)
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404)
  })
})
