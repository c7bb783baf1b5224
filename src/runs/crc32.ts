/**
 * CRC-32 (IEEE 802.3, the one of zlib, gzip and Python's zlib.crc32), so a sidecar's checksums
 * can be checked by any tool. node:zlib has it from Node 20.15; older Node 20 gets the table
 * version (the package supports every Node 20). Imported as the default export: a named import
 * missing from node:zlib would fail to link on those versions.
 */
import zlib from "node:zlib";

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** The table version: what older Node 20 uses (and what the tests check the native one by). */
export function crc32Table(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) {
    c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ -1) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export const crc32: (bytes: Uint8Array) => number =
  typeof native === "function" ? (bytes) => native(bytes) : crc32Table;
