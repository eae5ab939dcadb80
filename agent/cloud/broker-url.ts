import type { IClientOptions } from 'mqtt';

const SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'];

/**
 * A broker URL as mqtt.js options, parsed with the WHATWG URL API: handing mqtt.js the string
 * makes it call the deprecated `url.parse`, a warning on every agent's stderr. Credentials in the
 * URL are kept; explicit ones (`username`, `password`) win over them. No write cache: mqtt.js would
 * otherwise fill mqtt-packet's cache of every 16-bit number as a Buffer (65,536 of them, ~7 MB of heap).
 */
export function brokerAddress(
  url: string,
  credentials: { username?: string; password?: string } = {},
): IClientOptions {
  const u = new URL(url);
  const protocol = u.protocol.replace(/:$/, '');
  if (!SCHEMES.includes(protocol))
    throw new Error(`broker URL ${redact(url)}: the scheme must be one of ${SCHEMES.join(', ')}`);
  const ws = protocol === 'ws' || protocol === 'wss';
  return {
    protocol: protocol as IClientOptions['protocol'],
    hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(u.port ? { port: Number(u.port) } : {}),
    ...(ws ? { path: `${u.pathname}${u.search}` } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(credentials.username !== undefined ? { username: credentials.username } : {}),
    ...(credentials.password !== undefined ? { password: credentials.password } : {}),
    writeCache: false,
  };
}

/** The broker's address with any user name and password taken out: status and logs may show it. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
