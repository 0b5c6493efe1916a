import { readDescriptorSet } from '@nexus-control/client';

/**
 * Splits a FileDescriptorSet (`repeated FileDescriptorProto file = 1`) into its encoded
 * files: the shape @grpc/reflection reads from a package definition. Hand-decoded: two
 * wire-format rules are all it takes.
 */
export function splitDescriptorSet(bytes: Uint8Array): Buffer[] {
  const files: Buffer[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new Error('truncated descriptor set');
      const byte = bytes[pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag !== ((1 << 3) | 2)) throw new Error(`unexpected field tag ${tag} in descriptor set`);
    const length = varint();
    files.push(Buffer.from(bytes.subarray(pos, pos + length)));
    pos += length;
  }
  return files;
}

/** A package definition with only the descriptors, which is all reflection needs. */
export function reflectionPackageDefinition(): Record<string, { fileDescriptorProtos: Buffer[] }> {
  return { 'nexus.control.v1': { fileDescriptorProtos: splitDescriptorSet(readDescriptorSet()) } };
}
