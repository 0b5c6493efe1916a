import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { ErrorCode } from '@nexus-control/client';
import { errorCodes, errorKindOf, type ErrorCode as DomainCode } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { GRPC_STATUS_BY_KIND } from '../src/errors/toServiceError.js';

const PREFIX = 'ERROR_CODE_';
const protoText = readFileSync(fileURLToPath(new URL('../../../proto/nexus/control/v1/errors.proto', import.meta.url)), 'utf8');

function publishedCodes(): string[] {
  return Object.keys(ErrorCode)
    .filter((name) => name.startsWith(PREFIX) && name !== `${PREFIX}UNSPECIFIED`)
    .map((name) => name.slice(PREFIX.length));
}

describe('the published error code enum (errors.proto)', () => {
  it('lists exactly the codes of errorCodes.ts, in the same order', () => {
    expect(publishedCodes()).toEqual(Object.keys(errorCodes));
  });

  it('documents for each code the gRPC status the server sends it with', () => {
    for (const code of Object.keys(errorCodes) as DomainCode[]) {
      const grpcName = status[GRPC_STATUS_BY_KIND[errorKindOf(code)]];
      const documented = new RegExp(`// [^\\n]*gRPC status ${grpcName}\\.\\n\\s*${PREFIX}${code} = \\d+;`);
      expect(protoText, code).toMatch(documented);
    }
  });
});
