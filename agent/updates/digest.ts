import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

/**
 * An artifact's digest as a desired status gives it, written once for the whole update path (file
 * names, verification): pitcrew's hex SHA-256 as it is, or an Aos cloud's base64 digest, which
 * the Aos CM checks as SHA3-256, as `sha3-256-<hex>`.
 */
export function normalDigest(wire: string): string {
  return /^[0-9a-f]{64}$/.test(wire) ? wire : `sha3-256-${Buffer.from(wire, 'base64').toString('hex')}`;
}

/** The digest of a file in the algorithm `digest` (a normalDigest) names, in the same form. */
export async function fileDigest(file: string, digest: string): Promise<string> {
  const sha3 = digest.startsWith('sha3-256-');
  const h = createHash(sha3 ? 'sha3-256' : 'sha256');
  await pipeline(createReadStream(file), h);
  return `${sha3 ? 'sha3-256-' : ''}${h.digest('hex')}`;
}
