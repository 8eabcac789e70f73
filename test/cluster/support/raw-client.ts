/** A signaling client speaking the wire protocol by hand over `ws`, with an inbox to await frames from. */
import { signChallenge } from '@chiral/signaling'
import { WebSocket } from 'ws'
import type { PrivateKey } from '@libp2p/interface'

export type Frame = Record<string, unknown> & { type: string }

export class WireClient {
  readonly inbox: Frame[] = []
  closed: { code: number, reason: string } | undefined
  nonce = ''
  /** The room as this client was told it: `peers`, then the deltas. */
  readonly members = new Set<string>()
  private waiters: Array<() => void> = []

  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame
      if (frame.type === 'peers') {
        this.members.clear()
        for (const id of frame.peers as string[]) this.members.add(id)
      } else if (frame.type === 'peer-joined') {
        this.members.add(frame.clientId as string)
      } else if (frame.type === 'peer-left') {
        this.members.delete(frame.clientId as string)
      }
      this.inbox.push(frame)
      this.wake()
    })
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.wake()
    })
    ws.on('error', () => {})
  }

  /** Connects and waits for the challenge. */
  static async connect (url: string): Promise<WireClient> {
    const client = new WireClient(new WebSocket(url))
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => { resolve() })
      client.ws.once('error', reject)
    })
    client.nonce = (await client.next('challenge')).nonce as string
    return client
  }

  send (frame: unknown): void {
    this.ws.send(JSON.stringify(frame))
  }

  /** Sends `register` (signed when a key is given) without waiting for the answer. */
  async sendRegister (clientId: string, room: string, key?: PrivateKey): Promise<void> {
    const signed = key === undefined ? {} : await signChallenge(key, this.nonce)
    this.send({ type: 'register', clientId, room, ...signed })
  }

  /** Registers and returns the `peers` list; throws with the error frame otherwise. */
  async register (clientId: string, room: string, key?: PrivateKey): Promise<string[]> {
    await this.sendRegister(clientId, room, key)
    const reply = await this.next()
    if (reply.type !== 'peers') throw new Error(`register failed: ${JSON.stringify(reply)}`)
    return reply.peers as string[]
  }

  /** Removes and returns the first frame matching (any frame when omitted). */
  async next (match?: string | ((f: Frame) => boolean), timeoutMs = 5000): Promise<Frame> {
    const pred = match === undefined ? () => true : typeof match === 'string' ? (f: Frame) => f.type === match : match
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex(pred)
      if (i >= 0) return this.inbox.splice(i, 1)[0]!
      if (this.closed !== undefined) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) while waiting; inbox ${JSON.stringify(this.inbox)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${typeof match === 'string' ? match : 'a frame'}; inbox: ${JSON.stringify(this.inbox)}`)
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
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
    return this.closed
  }

  close (): void {
    this.ws.close()
  }

  private wake (): void {
    for (const w of this.waiters.splice(0)) w()
  }
}
