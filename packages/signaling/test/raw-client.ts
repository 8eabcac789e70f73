import { WebSocket } from 'ws'
import { createSignalingServer } from '../src/index.js'
import type { SignalingServer, SignalingServerInit } from '../src/index.js'

export type Frame = Record<string, unknown> & { type: string }

/** A real `ws` client speaking the wire protocol by hand, with an inbox to await frames from. */
export class RawClient {
  readonly inbox: Frame[] = []
  closed: { code: number, reason: string } | undefined
  private waiters: Array<() => void> = []

  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.inbox.push(JSON.parse(data.toString()) as Frame)
      this.wake()
    })
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.wake()
    })
    ws.on('error', () => {})
  }

  static async connect (url: string): Promise<RawClient> {
    const ws = new WebSocket(url)
    const client = new RawClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => { resolve() })
      ws.once('error', reject)
    })
    return client
  }

  /** Connects and waits for the challenge; returns the client and its nonce. */
  static async ready (url: string): Promise<{ client: RawClient, nonce: string }> {
    const client = await RawClient.connect(url)
    const challenge = await client.next('challenge')
    return { client, nonce: challenge.nonce as string }
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  send (frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Removes and returns the first frame of `type` (any type when omitted). */
  async next (type?: string, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex((f) => type === undefined || f.type === type)
      if (i >= 0) return this.inbox.splice(i, 1)[0]!
      if (this.closed !== undefined) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting for ${type ?? 'a frame'}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${type ?? 'a frame'}; inbox: ${JSON.stringify(this.inbox)}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }

  async waitClosed (timeoutMs = 5000): Promise<{ code: number, reason: string }> {
    const deadline = Date.now() + timeoutMs
    while (this.closed === undefined) {
      if (Date.now() > deadline) throw new Error('not closed in time')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now())
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
    return this.closed
  }

  /** Registers and returns the `peers` list. */
  async register (clientId: string, extra: Record<string, unknown> = {}): Promise<string[]> {
    this.send({ type: 'register', clientId, ...extra })
    const reply = await this.next()
    if (reply.type !== 'peers') throw new Error(`register failed: ${JSON.stringify(reply)}`)
    return reply.peers as string[]
  }

  close (): void {
    this.ws.close()
  }
}

export async function startServer (init: SignalingServerInit = {}): Promise<{ server: SignalingServer, url: string }> {
  const server = createSignalingServer({ port: 0, host: '127.0.0.1', ...init })
  await server.start()
  return { server, url: `ws://127.0.0.1:${server.address()!.port}` }
}
