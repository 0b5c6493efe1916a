import type {
  CreateTemplateRequest,
  CreateTemplateResponse,
  GetTemplateRequest,
  GetTemplateResponse,
  ListTemplatesRequest,
  ListTemplatesResponse,
  TemplateServiceServer,
} from '@nexus-control/client';
import { checkIdentifier } from '@nexus-control/core';
import { policyInputIn, templateLabels, templateOut } from '../convert.js';
import type { RpcRuntime } from '../createRpcRuntime.js';
import type { ServerDeps } from '../ServerDeps.js';
import { commandContext } from './approvalService.js';

export function templateService(rpc: RpcRuntime, { nexus }: ServerDeps): TemplateServiceServer {
  return {
    createTemplate: rpc.unary<CreateTemplateRequest, CreateTemplateResponse>('TemplateService/CreateTemplate', async (req, ctx) => {
      const template = await nexus.createTemplate(
        { name: req.name, policy: policyInputIn(req.policy) ?? {}, ...(req.description === '' ? {} : { description: req.description }) },
        commandContext(ctx, req.idempotencyKey),
      );
      return { template: templateOut(template) };
    }),

    getTemplate: rpc.unary<GetTemplateRequest, GetTemplateResponse>('TemplateService/GetTemplate', async (req) => ({
      template: templateOut(await nexus.getTemplate(req.name)),
    })),

    listTemplates: rpc.unary<ListTemplatesRequest, ListTemplatesResponse>('TemplateService/ListTemplates', async (req) => {
      if (req.label !== '') checkIdentifier(req.label, 'label', 'INVALID_ARGUMENT');
      const templates = await nexus.listTemplates();
      const shown = req.label === '' ? templates : templates.filter((t) => templateLabels(t).includes(req.label));
      return { templates: shown.map(templateOut) };
    }),
  };
}
