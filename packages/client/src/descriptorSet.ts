import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Path of the FileDescriptorSet generated with the code (every Nexus Control proto, its
 * imports, and the gRPC health proto, with source comments): what server reflection serves.
 */
export const descriptorSetPath: string = fileURLToPath(new URL('./gen/descriptor_set.binpb', import.meta.url));

export function readDescriptorSet(): Buffer {
  return readFileSync(descriptorSetPath);
}
