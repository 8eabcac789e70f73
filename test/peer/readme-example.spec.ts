/**
 * Runs the README's Node example as it is: `share.mjs` in one process,
 * `fetch.mjs` in another, both against a real chiral-node on loopback.
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChiralNode } from '../browser/support/node-process.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'
import type { ChildProcess } from 'node:child_process'

const REPO = new URL('../..', import.meta.url).pathname
const NODE_BUNDLE = join(REPO, 'apps', 'node', 'dist', 'chiral-node.mjs')
// Inside test/ so that `@chiral/peer` resolves from the examples as it does in an app.
const WORK = join(REPO, 'test', '.readme-examples')

/** The README's code block opened with ```js <name>. */
function readmeBlock (name: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const match = new RegExp('```js ' + name.replace('.', '\\.') + '\\n([\\s\\S]*?)```').exec(readme)
  if (match?.[1] === undefined) throw new Error(`README.md has no \`\`\`js ${name} block`)
  return match[1]
}

interface Run { child: ChildProcess, out: () => string, exit: Promise<number | null> }

function run (script: string, args: string[], cwd: string, signalingUrl: string): Run {
  // Sources through the `source` condition, as every test here; the code is the README's.
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    cwd, env: { ...process.env, CHIRAL_SIGNALING: signalingUrl }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exit = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  return { child, out: () => out, exit }
}

async function waitFor (what: () => RegExpExecArray | null, r: Run, ms: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const m = what()
    if (m !== null) return m
    if (r.child.exitCode !== null || Date.now() > deadline) throw new Error(`gave up waiting; output:\n${r.out()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('the README\'s Node example', () => {
  let node: ChiralNodeProcess | undefined

  beforeAll(async () => {
    if (!existsSync(NODE_BUNDLE)) throw new Error('build the node first: pnpm --filter ./apps/node build')
    rmSync(WORK, { recursive: true, force: true })
    mkdirSync(join(WORK, 'downloads'), { recursive: true })
    writeFileSync(join(WORK, 'share.mjs'), readmeBlock('share.mjs'))
    writeFileSync(join(WORK, 'fetch.mjs'), readmeBlock('fetch.mjs'))
    node = await startChiralNode({ bundle: NODE_BUNDLE, host: '127.0.0.1', workDir: WORK, args: ['--datastore', 'memory'] })
  })

  afterAll(async () => {
    await node?.stop()
    rmSync(WORK, { recursive: true, force: true })
  })

  it('shares in one process and fetches in another: same bytes, and both processes end by themselves', async () => {
    const content = randomBytes(6 * 1024 * 1024 + 12345)
    writeFileSync(join(WORK, 'report.bin'), content)
    const share = run('share.mjs', ['report.bin'], WORK, node!.signalingUrl)
    try {
      const [, cid] = await waitFor(() => /sharing (\S+)/.exec(share.out()), share, 30_000)
      expect(share.out()).toContain(`#/download/${cid}`)
      const fetch = run('../fetch.mjs', [cid!], join(WORK, 'downloads'), node!.signalingUrl)
      expect(await fetch.exit).toBe(0)
      const saved = /saved (.+): (\d+) bytes, mostly by (\S+)/.exec(fetch.out())
      expect(saved, fetch.out()).not.toBeNull()
      expect(Number(saved![2])).toBe(content.length)
      expect(['webrtc-direct', 'relay']).toContain(saved![3])
      const got = readFileSync(saved![1]!)
      expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(content).digest('hex'))
      await waitFor(() => /sent \d+ bytes by/.exec(share.out()), share, 10_000)
      // Ctrl-C: the example stops its peer and nothing keeps the process alive.
      share.child.kill('SIGINT')
      const code = await Promise.race([share.exit, new Promise((resolve) => setTimeout(() => { resolve('still running') }, 10_000))])
      expect(code).toBe(0)
    } finally {
      share.child.kill('SIGKILL')
    }
  }, 90_000)
})
