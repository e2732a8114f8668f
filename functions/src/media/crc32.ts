/**
 * CRC-32 as PNG (and zlib, gzip, Ethernet) define it: reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF. Kept here rather than using `zlib.crc32` because that only exists from Node 22.2.
 */

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let value = index;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
}

/**
 * The CRC-32 of `bytes`. Pass the result of a previous call as `previous` to continue over data that arrives
 * in pieces (PNG checksums the chunk type and the chunk data, which we hold separately).
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (const byte of bytes) crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return ~crc >>> 0;
}
