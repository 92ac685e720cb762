// The Redis Cluster hash slot of a key (CRC16-XMODEM of the hash tag, mod 16384),
// as the cluster spec defines it: readers that span many keys group them by slot owner.
// Not cluster-key-slot (ioredis's): it disagrees with CLUSTER KEYSLOT on keys such as
// "foo{}{bar}" (test/cluster/harness.test.ts).
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

const utf8 = new TextEncoder();

export function keySlot(key: string): number {
  let k = key;
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    // only a non-empty {tag} counts; otherwise the whole key is hashed
    if (close > open + 1) k = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const b of utf8.encode(k)) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc % 16384;
}
