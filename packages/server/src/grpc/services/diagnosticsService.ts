import type { DiagnosticsServiceServer, EchoRequest, EchoResponse, WhoAmIRequest, WhoAmIResponse } from '@nexus-control/client';
import { ROLES } from '../../auth/roles.js';
import { actorOut } from '../convert.js';
import type { RpcRuntime } from '../createRpcRuntime.js';

export function diagnosticsService(rpc: RpcRuntime): DiagnosticsServiceServer {
  return {
    echo: rpc.unary<EchoRequest, EchoResponse>('DiagnosticsService/Echo', async (req) => ({ message: req.message, payload: req.payload })),
    whoAmI: rpc.unary<WhoAmIRequest, WhoAmIResponse>('DiagnosticsService/WhoAmI', async (_req, ctx) => ({
      actor: actorOut(ctx.identity.actor),
      roles: ROLES.filter((role) => ctx.identity.roles.has(role)),
      authenticatedBy: ctx.identity.via,
    })),
  };
}
