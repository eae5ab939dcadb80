import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignedEnvelope, type SignedEnvelopeT } from '../../schemas/wire.js';
import { errors, errorText } from './errors.js';

/** DER header of an Ed25519 public key (SPKI) before its 32 raw bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A key's id in envelopes: the first 16 hex digits of the SHA-256 of its 32 raw bytes. */
export const keyIdOf = (raw: Buffer) => createHash('sha256').update(raw).digest('hex').slice(0, 16);

const rawOf = (pub: KeyObject) => (pub.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);

/** A trusted key as config writes it: base64 of the 32 raw bytes, or a PEM public key. */
export function publicKey(text: string): { key: KeyObject; id: string } {
  const t = text.trim();
  const key = t.startsWith('-----BEGIN')
    ? createPublicKey(t)
    : createPublicKey({
        key: Buffer.concat([SPKI_PREFIX, Buffer.from(t, 'base64')]),
        format: 'der',
        type: 'spki',
      });
  if (key.asymmetricKeyType !== 'ed25519') throw errors.DRIVER_ERROR('a trusted key must be Ed25519');
  return { key, id: keyIdOf(rawOf(key)) };
}

/** A new signing key pair: the private key as PEM (keep it secret), the public key as base64 for `trust.keys`. */
export function keygen(): { privatePem: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey: pub } = generateKeyPairSync('ed25519');
  const raw = rawOf(pub);
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicKey: raw.toString('base64'),
    keyId: keyIdOf(raw),
  };
}

/** The signed envelope of a payload (DESIGN §7.1): Ed25519 over the payload's bytes. */
export function signEnvelope(payload: Buffer, privatePem: string): SignedEnvelopeT {
  const key = createPrivateKey(privatePem);
  return {
    payload: payload.toString('base64'),
    signature: sign(null, payload, key).toString('base64'),
    key_id: keyIdOf(rawOf(createPublicKey(key))),
  };
}

/** The payload of an envelope signed by one of `trusted`, or PITCREW_SIGNATURE with the reason. */
export function openEnvelope(text: string, trusted: readonly string[]): Buffer {
  let envelope: SignedEnvelopeT;
  try {
    envelope = SignedEnvelope.parse(JSON.parse(text));
  } catch {
    throw errors.SIGNATURE('not a signed envelope {payload, signature, key_id}');
  }
  const key = trusted.map(publicKey).find((k) => k.id === envelope.key_id);
  if (!key) throw errors.SIGNATURE(`key ${envelope.key_id} is not trusted`);
  const payload = Buffer.from(envelope.payload, 'base64');
  if (!verify(null, payload, key.key, Buffer.from(envelope.signature, 'base64')))
    throw errors.SIGNATURE(`the signature does not match the payload (key ${envelope.key_id})`);
  return payload;
}

/**
 * The trusted public keys' files, read when the part that needs them starts: a missing or
 * unreadable one fails the start, naming its config key (`<key>.<index>`).
 */
export function readTrustedKeys(files: readonly string[], key: string): string[] {
  return files.map((f, i) => {
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      throw errors.START_FAILED(key.split('.')[0]!, `trusted key ${f}: ${errorText(e)}`).at(`${key}.${i}`);
    }
  });
}
