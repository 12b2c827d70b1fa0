import { isIP } from 'node:net'

/** One `--gateway-listen` address: where a gateway-only HTTP listener binds. */
export interface GatewayListenAddress {
  /** An IP literal (IPv6 without brackets) or a host name. */
  host: string
  /** 0: any free port (the bound one is in `status --json`). */
  port: number
}

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/**
 * Parses `HOST:PORT` (`0.0.0.0:8080`, `[::]:8080`, `localhost:0`); null when it is not one. The port is
 * required: widening the gateway is deliberate, so nothing is implied.
 */
export function parseGatewayListenAddress(text: string): GatewayListenAddress | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  if (m === null) return null
  const port = Number(m[3])
  if (port > 65535) return null
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? { host: m[1], port } : null
  const host = m[2]
  if (isIP(host) === 4 || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host))) return { host, port }
  return null
}

/** `http://host:port`, with brackets around an IPv6 address. */
export function httpUrlOf(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}
