import { describe, expect, it } from 'vitest';
import { NexusError } from '../../src/errors/NexusError.js';
import { canonicalJson } from '../../src/json/canonicalJson.js';
import { FEED_START } from '../../src/store/EventStore.js';
import { requester, setup } from './fixtures.js';

async function rejects(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NexusError);
  expect((error as NexusError).code).toBe(code);
}

describe('request', () => {
  it('writes DECISION_CREATED and POLICY_ATTACHED together with exactly the spec payload keys', async () => {
    const { nexus, store } = setup();
    const view = await nexus.request({ goal: 'rotate keys' }, requester);
    const events = await store.readEvents(view.decisionId);
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [0, 'DECISION_CREATED'],
      [1, 'POLICY_ATTACHED'],
    ]);
    expect(canonicalJson(events[0]!.payload)).toBe('{"goal":"rotate keys","labels":[],"plan":null,"requested_mode":"dry_run"}');
    expect(canonicalJson(events[1]!.payload)).toBe(
      '{"allowed_modes":["dry_run"],"labels":[],"max_steps":null,"min_approvals":1,"require_adapter_capabilities":[]}',
    );
    expect(events.map((e) => e.generation)).toEqual([0, 0]);
    expect((await store.readFeed()).events).toEqual(events);
    expect(view.status).toBe('pending_approval');
    expect(view.requester).toEqual(requester.actor);
  });

  it('defaults allowed modes to dry_run only for a dry run, and to both for an apply request', async () => {
    const { nexus } = setup();
    expect((await nexus.request({ goal: 'g' }, requester)).policy?.allowedModes).toEqual(['dry_run']);
    expect((await nexus.request({ goal: 'g', mode: 'apply' }, requester)).policy?.allowedModes).toEqual(['dry_run', 'apply']);
  });

  it.each([
    ['an empty goal', { goal: '' }, 'INVALID_GOAL'],
    ['a blank goal', { goal: '   ' }, 'INVALID_GOAL'],
    ['a goal that is not a string', { goal: 42 }, 'INVALID_GOAL'],
    ['an unknown mode', { goal: 'g', mode: 'yolo' }, 'INVALID_MODE'],
    ['a mode outside the allowed modes', { goal: 'g', mode: 'apply', policy: { allowedModes: ['dry_run'] } }, 'MODE_NOT_ALLOWED'],
    ['min_approvals of 0', { goal: 'g', policy: { minApprovals: 0 } }, 'INVALID_POLICY'],
    ['a fractional min_approvals', { goal: 'g', policy: { minApprovals: 1.5 } }, 'INVALID_POLICY'],
    ['min_approvals as a string', { goal: 'g', policy: { minApprovals: '2' } }, 'INVALID_POLICY'],
    ['empty allowed modes', { goal: 'g', policy: { allowedModes: [] } }, 'INVALID_POLICY'],
    ['an unknown allowed mode', { goal: 'g', policy: { allowedModes: ['dry_run', 'destroy'] } }, 'INVALID_POLICY'],
    ['a duplicated allowed mode', { goal: 'g', policy: { allowedModes: ['dry_run', 'dry_run'] } }, 'INVALID_POLICY'],
    ['max_steps of 0', { goal: 'g', policy: { maxSteps: 0 } }, 'INVALID_POLICY'],
    ['a capability that is not a string', { goal: 'g', policy: { requireAdapterCapabilities: [1] } }, 'INVALID_POLICY'],
    ['a label that is not a string', { goal: 'g', policy: { labels: [null] } }, 'INVALID_POLICY'],
    ['an unknown template', { goal: 'g', templateName: 'nope' }, 'TEMPLATE_NOT_FOUND'],
  ])('rejects %s and writes nothing', async (_name, input, code) => {
    const { nexus, store } = setup();
    await rejects(nexus.request(input as never, requester), code);
    expect(await store.headCheckpoint()).toBe(FEED_START);
    expect((await store.listDecisions()).items).toEqual([]);
  });

  it('rejects a request without a valid actor', async () => {
    const { nexus } = setup();
    await rejects(nexus.request({ goal: 'g' }, { actor: { type: 'robot', id: 'x' } } as never), 'INVALID_ACTOR');
    await rejects(nexus.request({ goal: 'g' }, { actor: { type: 'human', id: '' } }), 'INVALID_ACTOR');
  });

  it('starts from a template: given fields override it and are listed, labels replace', async () => {
    const { nexus, store } = setup();
    const template = await nexus.createTemplate(
      {
        name: 'prod-deploy',
        description: 'deploys',
        policy: { minApprovals: 2, allowedModes: ['dry_run', 'apply'], labels: ['prod', 'deploy'], maxSteps: 10 },
      },
      requester,
    );
    const view = await nexus.request(
      { goal: 'ship', mode: 'apply', templateName: 'prod-deploy', policy: { minApprovals: 3, labels: ['hotfix'] } },
      requester,
    );
    expect(view.policy).toMatchObject({ minApprovals: 3, allowedModes: ['dry_run', 'apply'], maxSteps: 10, labels: ['hotfix'] });
    expect(view.labels).toEqual(['hotfix']);
    const [created, attached] = await store.readEvents(view.decisionId);
    expect(created!.payload['labels']).toEqual(['hotfix']);
    expect(attached!.payload['template_name']).toBe('prod-deploy');
    expect(attached!.payload['template_digest']).toBe(template.digest);
    expect(attached!.payload['template_snapshot']).toEqual(template.snapshot);
    expect(attached!.payload['overrides_applied']).toEqual({ min_approvals: 3, labels: ['hotfix'] });
  });

  it('records an empty overrides object when a template is used as is', async () => {
    const { nexus, store } = setup();
    await nexus.createTemplate({ name: 't', policy: {} }, requester);
    const view = await nexus.request({ goal: 'g', templateName: 't' }, requester);
    const [, attached] = await store.readEvents(view.decisionId);
    expect(attached!.payload['overrides_applied']).toEqual({});
  });

  it('refuses a second template with the same name and keeps the first', async () => {
    const { nexus } = setup();
    await nexus.createTemplate({ name: 't', policy: { minApprovals: 2 } }, requester);
    await rejects(nexus.createTemplate({ name: 't', policy: { minApprovals: 5 } }, requester), 'TEMPLATE_EXISTS');
    expect((await nexus.getTemplate('t')).snapshot['min_approvals']).toBe(2);
    expect((await nexus.listTemplates()).map((t) => t.name)).toEqual(['t']);
  });

  it('validates a template policy like a request policy', async () => {
    const { nexus } = setup();
    await rejects(nexus.createTemplate({ name: 't', policy: { minApprovals: -1 } }, requester), 'INVALID_POLICY');
    await rejects(nexus.createTemplate({ name: 'bad name!', policy: {} }, requester), 'INVALID_ARGUMENT');
    await rejects(nexus.getTemplate('t'), 'TEMPLATE_NOT_FOUND');
  });
});
