import { TypedEventEmitter } from 'main-event'
import type { ClaimOutcome, ClusterStatus, ForwardOutcome, SignalingCluster, SignalingClusterEvents, SignalingClusterFactory } from './cluster.js'

/**
 * The single-instance cluster: nothing is shared. The server sees
 * `shared: false` and keeps its in-memory path (registration decided by the
 * local registry alone, synchronously); the methods answer as a cluster of
 * one would, for callers that use them anyway.
 */
export class LocalCluster extends TypedEventEmitter<SignalingClusterEvents> implements SignalingCluster {
  readonly shared = false
  readonly instanceId = 'local'

  async start (): Promise<void> {}
  async stop (): Promise<void> {}

  status (): ClusterStatus {
    return { mode: 'local' }
  }

  async claim (): Promise<ClaimOutcome> {
    return { kind: 'claimed', members: [], version: 0 }
  }

  release (): void {}

  async forward (): Promise<ForwardOutcome> {
    return 'unknown'
  }

  bounce (): void {}
}

/** The no-op cluster of a server that runs alone (the default). */
export function localCluster (): SignalingClusterFactory {
  return () => new LocalCluster()
}
