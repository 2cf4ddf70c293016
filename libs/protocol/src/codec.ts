/** What every codec in this library offers; `expectCodecLaws` checks any value against it. */
export interface Codec<T> {
  /** Throws only MalformedPacketError. */
  decode(buf: Uint8Array): T;
  /** Deterministic: equal values give equal bytes. */
  encode(value: T): Buffer;
  /** `encode(value).length`, computed without encoding. */
  encodingLength(value: T): number;
}
