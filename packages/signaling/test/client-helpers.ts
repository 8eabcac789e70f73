import { WebSocket } from 'ws'
import { WebSocketSignaling } from '../src/index.js'
import type { WebSocketSignalingInit } from '../src/index.js'
import type { SignalEvent } from '@chiral/core'

/** A Node WebSocketSignaling client on `ws`. */
export function wsClient (url: string, init: Partial<WebSocketSignalingInit> = {}): WebSocketSignaling {
  return new WebSocketSignaling({ url, WebSocket, reconnect: { initialDelay: 50, maxDelay: 500 }, ...init })
}

/** Resolves once the client has registered (status `open`). */
export async function untilOpen (client: WebSocketSignaling, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'open') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${client.id} not open after ${timeoutMs} ms (status ${client.status})`)) }, timeoutMs)
    const onState = (e: CustomEvent<{ status: string }>): void => {
      if (e.detail.status === 'open') {
        clearTimeout(timer)
        client.removeEventListener('state', onState)
        resolve()
      }
    }
    client.addEventListener('state', onState)
  })
}

/** Resolves with the next signal matching `pred`. */
export async function nextSignal (client: EventTarget, pred: (e: SignalEvent) => boolean = () => true, timeoutMs = 10_000): Promise<SignalEvent> {
  return new Promise<SignalEvent>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('no signal in time')) }, timeoutMs)
    const on = (e: Event): void => {
      const detail = (e as CustomEvent<SignalEvent>).detail
      if (!pred(detail)) return
      clearTimeout(timer)
      client.removeEventListener('signal', on)
      resolve(detail)
    }
    client.addEventListener('signal', on)
  })
}
