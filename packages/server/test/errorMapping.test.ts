import { Metadata, status } from '@grpc/grpc-js';
import { ERROR_CODE_TRAILER, NexusClientError, STATUS_DETAILS_TRAILER, decodeErrorStatus } from '@nexus-control/client';
import { ConcurrencyConflictError, NexusError, errorCodes, type ErrorCode } from '@nexus-control/core';
import { describe, expect, it } from 'vitest';
import { GRPC_STATUS_BY_KIND, toServiceError } from '../src/errors/toServiceError.js';

const expectedStatus: Record<string, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  failed_precondition: status.FAILED_PRECONDITION,
  aborted: status.ABORTED,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  resource_exhausted: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

describe('domain error → gRPC status mapping', () => {
  it('every error kind has the documented gRPC status', () => {
    expect(GRPC_STATUS_BY_KIND).toEqual(expectedStatus);
  });

  it.each(Object.keys(errorCodes) as ErrorCode[])(
    '%s travels as its kind’s status with the code in ErrorInfo and in the plain trailer',
    (code) => {
      const mapped = toServiceError(new NexusError(code, `failure ${code}`, { decisionId: 'dec_1', count: 2 }));
      expect(mapped.response.code).toBe(expectedStatus[errorCodes[code]]);
      expect(mapped.response.metadata?.get(ERROR_CODE_TRAILER)).toEqual([code]);
      const details = decodeErrorStatus(mapped.response.metadata?.get(STATUS_DETAILS_TRAILER)[0] as Buffer);
      expect(details).toEqual({
        code: expectedStatus[errorCodes[code]],
        message: `failure ${code}`,
        reason: code,
        metadata: { decisionId: 'dec_1', count: '2' },
      });
      expect(mapped.unexpected).toBeUndefined();
    },
  );

  it('policy and state violations are FAILED_PRECONDITION, a lost race is ABORTED', () => {
    expect(toServiceError(new NexusError('POLICY_VIOLATION', 'x')).response.code).toBe(status.FAILED_PRECONDITION);
    expect(toServiceError(new NexusError('INVALID_STATE', 'x')).response.code).toBe(status.FAILED_PRECONDITION);
    expect(
      toServiceError(new ConcurrencyConflictError('dec_1', { generation: 0, length: 3 }, { generation: 0, length: 4 })).response.code,
    ).toBe(status.ABORTED);
  });

  it('an unexpected error becomes INTERNAL without its message, and is kept for the log', () => {
    const boom = new Error('secret connection string postgres://user:pw@host');
    const mapped = toServiceError(boom);
    expect(mapped.response.code).toBe(status.INTERNAL);
    expect(mapped.response.details).toBe('internal error');
    expect(mapped.code).toBe('INTERNAL');
    expect(mapped.unexpected).toBe(boom);
  });

  it('the client decodes what the server encodes into a typed error', () => {
    const mapped = toServiceError(new NexusError('TEMPLATE_EXISTS', 'template prod exists', { templateName: 'prod' }));
    const error = NexusClientError.fromServiceError(
      Object.assign(new Error('x'), mapped.response, { metadata: mapped.response.metadata ?? new Metadata() }) as never,
    );
    expect(error).toMatchObject({
      code: 'TEMPLATE_EXISTS',
      grpcCode: status.ALREADY_EXISTS,
      details: { templateName: 'prod' },
      fromServer: true,
    });
  });
});
