import type { handleUnaryCall, Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { quote } from '@nexus-control/core';
import type { HealthImplementation } from 'grpc-health-check';

/**
 * Serves the standard health service, with one change: the library's answer for an unknown
 * service repeats the whole name the client sent; ours quotes a short prefix, like every
 * other error (README "Field limits and hostile input").
 */
export function addHealthService(server: Server, health: HealthImplementation): void {
  let captured: { service: ServiceDefinition; implementation: UntypedServiceImplementation } | undefined;
  health.addToServer({
    addService(service: ServiceDefinition, implementation: UntypedServiceImplementation) {
      captured = { service, implementation };
    },
  } as unknown as Server);
  if (!captured) throw new Error('the health service did not register itself');
  const check = captured.implementation['check'] as handleUnaryCall<{ service?: unknown }, unknown>;
  const boundedCheck: handleUnaryCall<{ service?: unknown }, unknown> = (call, callback) =>
    check(call, (error, value) => {
      if (error) callback({ ...error, details: `health status unknown for service ${quote(String(call.request.service ?? ''))}` });
      else callback(null, value);
    });
  server.addService(captured.service, { ...captured.implementation, check: boundedCheck });
}
