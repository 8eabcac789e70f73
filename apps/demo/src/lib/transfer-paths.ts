/**
 * Which paths the demo offers the transport, in one place: the receiver's
 * dialers and the provider's listeners. Everything protocol-related lives
 * in @chiral/transport; this file only composes it.
 */
import { relayDialer } from '@chiral/transport'
import { timedDialer } from './timed-dialer.js'
import type { PathAttempt } from './timed-dialer.js'
import type { DemoSettings } from './settings.js'
import type { ChiralNode, PathDialer, Signaling, Startable } from '@chiral/core'
import type { Provider } from '@chiral/transport'

export interface TransferPathsComponents {
  node: ChiralNode
  signaling: Signaling
  provider: Provider<never>
}

export interface TransferPaths extends Startable {
  /** Dialers the receiver tries for each provider. */
  dialers: PathDialer[]
}

/** The paths for the current settings; `report` sees every outgoing attempt. */
export function createTransferPaths (components: TransferPathsComponents, settings: DemoSettings, report: (a: PathAttempt) => void): TransferPaths {
  const dialers: PathDialer[] = [timedDialer(relayDialer(components.node), report)]
  return {
    dialers,
    async start () {},
    async stop () {}
  }
}
