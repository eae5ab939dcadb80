import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { keygen, signEnvelope } from '../../agent/rollout/signing.js';

/** A key pair: the private PEM to sign with, and the public key's file for `updates.trust.keys`. */
export function signingKey(dir: string, name = 'update') {
  const k = keygen();
  const pubFile = path.join(dir, `${name}.pub`);
  writeFileSync(pubFile, `${k.publicKey}\n`);
  return { privatePem: k.privatePem, pubFile, keyId: k.keyId };
}

/** A desired status as the cloud sends it: signed envelope JSON. */
export function signedDesired(payload: unknown, privatePem: string): Buffer {
  return Buffer.from(JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(payload)), privatePem)));
}

export interface TarEntry {
  name: string;
  /** '0' file, '2' symbolic link, '1' hard link, '5' directory, '3' character device. */
  type?: '0' | '1' | '2' | '3' | '5';
  body?: string | Buffer;
  link?: string;
}

/**
 * A `.tar.gz` written byte by byte (ustar headers), so a test can make archives no well-behaved
 * tool would: entries with `..`, absolute paths, links out of the root, devices.
 */
export function tarGz(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    const put = (s: string, at: number, len: number) => h.write(s.slice(0, len), at, len, 'utf8');
    const oct = (n: number, at: number, len: number) =>
      put(`${n.toString(8).padStart(len - 1, '0')}\0`, at, len);
    put(e.name, 0, 100);
    oct(e.type === '5' ? 0o755 : 0o644, 100, 8);
    oct(0, 108, 8);
    oct(0, 116, 8);
    oct(e.type && e.type !== '0' ? 0 : body.length, 124, 12);
    oct(1_700_000_000, 136, 12);
    h.fill(' ', 148, 156);
    put(e.type ?? '0', 156, 1);
    put(e.link ?? '', 157, 100);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    let sum = 0;
    for (const b of h) sum += b;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
    blocks.push(h);
    if (!e.type || e.type === '0') {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
