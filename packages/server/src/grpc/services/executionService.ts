import type {
  ExecuteRequest,
  ExecuteResponse,
  ExecutionServiceServer,
  FailExecutionRequest,
  FailExecutionResponse,
  ListAdaptersRequest,
  ListAdaptersResponse,
} from '@nexus-control/client';
import { canonicalJson } from '@nexus-control/core';
import { decisionOut, modeIn } from '../convert.js';
import type { RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';
import { commandContext } from './approvalService.js';

export function executionService(rpc: RpcRuntime, { nexus, router }: ServerDeps): ExecutionServiceServer {
  return {
    execute: rpc.unary<ExecuteRequest, ExecuteResponse>('ExecutionService/Execute', async (req, ctx) => {
      const mode = modeIn(req.mode, 'mode');
      const result = await nexus.execute(
        req.decisionId,
        { adapterId: req.adapterId, signal: ctx.signal, ...(mode === undefined ? {} : { mode }) },
        commandContext(ctx, req.idempotencyKey),
      );
      const decision = decisionOut(result.decision);
      return {
        decision,
        execution: decision.executions.find((e) => e.requestedSeq === result.execution.requestedSeq),
        routerResponseJson: result.response ? canonicalJson(result.response) : '',
      };
    }),

    failExecution: rpc.unary<FailExecutionRequest, FailExecutionResponse>('ExecutionService/FailExecution', async (req, ctx) => {
      const view = await nexus.failExecution(req.decisionId, { reason: req.reason }, commandContext(ctx, req.idempotencyKey));
      const decision = decisionOut(view);
      return { decision, execution: decision.executions.at(-1) };
    }),

    listAdapters: rpc.unary<ListAdaptersRequest, ListAdaptersResponse>('ExecutionService/ListAdapters', async () => ({
      adapters: router
        .adapters()
        .map((adapter) => ({ id: adapter.id, capabilities: [...adapter.capabilities] }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    })),
  };
}
