import { identify } from '@libp2p/identify'
import { createLibp2p, type ServiceFactoryMap } from 'libp2p'
import { transportStack } from '../../src/node/libp2p-node.ts'
import type { Libp2p, ServiceMap, Stream } from '@libp2p/interface'

/**
 * Test nodes: the node's transport stack (TCP on 127.0.0.1 only, Noise, Yamux, with their patches),
 * identify; no discovery of any kind. Every node made through `useNodes()` is stopped after each test.
 */
export function useNodes(): <T extends ServiceMap>(services: ServiceFactoryMap<T>) => Promise<Libp2p<T>> {
  const nodes: Libp2p[] = []
  afterEach(async () => {
    const stopping = nodes.splice(0)
    // Reset connections first: a graceful close waits on streams still closing (identify, often).
    for (const node of stopping)
      for (const connection of node.getConnections()) connection.abort(new Error('test over'))
    await Promise.all(stopping.map((node) => node.stop()))
  })
  return async <T extends ServiceMap>(services: ServiceFactoryMap<T>): Promise<Libp2p<T>> => {
    const node = await createLibp2p<T>({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      ...transportStack(),
      services: { ...services, identify: identify() } as ServiceFactoryMap<T>,
    })
    nodes.push(node as unknown as Libp2p)
    return node
  }
}

/**
 * Every byte that arrives on the first stream of `protocol` opened to `node`, once its sender closes it.
 * `onStream` sees the stream before it is read (to count the frames this end sends, say).
 */
export function receiveAll(
  node: Libp2p,
  protocol: string,
  onStream?: (stream: Stream) => void,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    void node.handle(protocol, async (stream) => {
      onStream?.(stream)
      const parts: Uint8Array[] = []
      try {
        for await (const piece of stream) parts.push(piece.subarray())
        resolve(Buffer.concat(parts))
      } catch (err) {
        reject(err as Error)
      }
    })
  })
}
