// Kafka's Uuid: 16 bytes, shown as 22 characters of url-safe base64 without
// padding (topic ids, cluster.id, directory.id) and keyed here as 32 hex chars.

export const ZERO_UUID = new Uint8Array(16);
/** Uuid.METADATA_TOPIC_ID: the topic id of __cluster_metadata (AAAAAAAAAAAAAAAAAAAAAQ). */
export const METADATA_TOPIC_ID = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export function uuidEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZeroUuid(id: Uint8Array): boolean {
  return uuidEquals(id, ZERO_UUID);
}

export function uuidToBase64(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("base64url");
}

/** Parses a 22-character url-safe base64 uuid; null if it is not one. */
export function uuidFromBase64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) return null;
  const b = Buffer.from(s, "base64url");
  return b.length === 16 ? new Uint8Array(b) : null;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** 32 lowercase hex characters: the key of MetadataImage.topicsById. */
export function uuidHex(id: Uint8Array): string {
  let s = "";
  for (let i = 0; i < id.length; i++) s += HEX[id[i]!];
  return s;
}

/**
 * A random version-4 uuid, as Kafka's Uuid.randomUuid: never the zero or
 * metadata-topic id, and never one whose base64 form starts with '-'
 * (it would read as a command-line option).
 */
export function randomUuid(): Uint8Array {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    if (uuidEquals(b, ZERO_UUID) || uuidEquals(b, METADATA_TOPIC_ID) || uuidToBase64(b).startsWith("-")) continue;
    return b;
  }
}
