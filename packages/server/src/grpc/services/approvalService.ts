import type { ApprovalServiceServer, ApproveRequest, ApproveResponse, RevokeRequest, RevokeResponse } from '@nexus-control/client';
import type { CommandContext } from '@nexus-control/core';
import { decisionOut, timestampIn } from '../convert.js';
import type { RpcContext, RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';

export function commandContext(ctx: RpcContext, idempotencyKey: string): CommandContext {
  return { actor: ctx.identity.actor, ...(idempotencyKey === '' ? {} : { idempotencyKey }) };
}

export function approvalService(rpc: RpcRuntime, { nexus }: ServerDeps): ApprovalServiceServer {
  return {
    approve: rpc.unary<ApproveRequest, ApproveResponse>('ApprovalService/Approve', async (req, ctx) => {
      const view = await nexus.approve(
        req.decisionId,
        {
          expiresAt: req.expiresAt === undefined ? null : timestampIn(req.expiresAt, 'expires_at'),
          ...(req.comment === '' ? {} : { comment: req.comment }),
        },
        commandContext(ctx, req.idempotencyKey),
      );
      return { decision: decisionOut(view) };
    }),

    revoke: rpc.unary<RevokeRequest, RevokeResponse>('ApprovalService/Revoke', async (req, ctx) => {
      const view = await nexus.revoke(req.decisionId, { reason: req.reason }, commandContext(ctx, req.idempotencyKey));
      return { decision: decisionOut(view) };
    }),
  };
}
