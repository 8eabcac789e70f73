import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const here = fileURLToPath(new URL('.', import.meta.url))
const coreDist = fileURLToPath(new URL('../packages/core/dist/', import.meta.url))

describe('@chiral/core as another workspace package sees it (built dist, plain Node)', () => {
  it('ships type declarations', () => {
    expect(existsSync(`${coreDist}index.d.ts`)).toBe(true)
    expect(existsSync(`${coreDist}index.js`)).toBe(true)
  })

  it('imports and runs from dist without the source condition', async () => {
    const script = `
      import { createManifest, createNode, parseContentId } from '@chiral/core'
      const m = await createManifest([new TextEncoder().encode('hello')], { name: 'hello.txt' })
      parseContentId(m.cid.toString())
      const node = await createNode({ role: 'server', listen: ['/ip4/127.0.0.1/tcp/0'], allowPrivateAddresses: true })
      await node.start()
      const addrs = node.getMultiaddrs().length
      await node.stop()
      console.log(JSON.stringify({ cid: m.cid.toString(), addrs, resolved: import.meta.resolve('@chiral/core') }))
    `
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: here, timeout: 30_000 })
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(out.cid).toMatch(/^bafy/)
    expect(out.addrs).toBeGreaterThan(0)
    expect(out.resolved).toMatch(/packages\/core\/dist\/index\.js$/)
  })
})
