import type { CliCommand } from '../CliIo.js';
import { CLIENT_OPTIONS_HELP, withClient } from '../client/clientOptions.js';
import { renderJson } from '../client/jsonOutput.js';
import { parseCommandArgs, positionalArgs } from '../client/parseCommandArgs.js';
import { POLICY_OPTIONS, POLICY_OPTIONS_HELP, policyFromFlags } from '../client/policyFlags.js';
import { renderTemplate, renderTemplates } from '../client/renderText.js';
import { runClientCommand } from '../client/runClientCommand.js';
import { subcommands } from '../client/subcommands.js';
import { templateJson } from '../client/toOutputJson.js';

const CREATE_HELP = `usage: nexus-control template create NAME [options]

Creates an immutable, named policy preset that decisions start from (--template NAME).

  --description TEXT      free text
  --idempotency-key KEY   repeating the call with the same key returns the first result

${POLICY_OPTIONS_HELP}

${CLIENT_OPTIONS_HELP}`;

const GET_HELP = `usage: nexus-control template get NAME [options]

${CLIENT_OPTIONS_HELP}`;

const LIST_HELP = `usage: nexus-control template list [--label LABEL] [options]

Lists templates by name.

  --label LABEL  only templates whose policy carries this label

${CLIENT_OPTIONS_HELP}`;

const create: CliCommand = (argv, io) =>
  runClientCommand('template create', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {
      description: { type: 'string' },
      'idempotency-key': { type: 'string' },
      ...POLICY_OPTIONS,
    });
    if (values.help) {
      io.out(CREATE_HELP);
      return 0;
    }
    const [name] = positionalArgs(positionals, ['NAME']) as [string];
    const policy = policyFromFlags(values) ?? {};
    return withClient(values, io, async (client) => {
      const { template } = await client.createTemplate({
        name,
        policy,
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(values['idempotency-key'] === undefined ? {} : { idempotencyKey: values['idempotency-key'] }),
      });
      if (!template) throw new Error('the server returned no template');
      io.out(values.json ? renderJson(templateJson(template)) : `created template ${template.name}\n${renderTemplate(template)}`);
      return 0;
    });
  });

const get: CliCommand = (argv, io) =>
  runClientCommand('template get', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, {});
    if (values.help) {
      io.out(GET_HELP);
      return 0;
    }
    const [name] = positionalArgs(positionals, ['NAME']) as [string];
    return withClient(values, io, async (client) => {
      const { template } = await client.getTemplate({ name });
      if (!template) throw new Error('the server returned no template');
      io.out(values.json ? renderJson(templateJson(template)) : renderTemplate(template));
      return 0;
    });
  });

const list: CliCommand = (argv, io) =>
  runClientCommand('template list', io, async () => {
    const { values, positionals } = parseCommandArgs(argv, { label: { type: 'string' } });
    if (values.help) {
      io.out(LIST_HELP);
      return 0;
    }
    positionalArgs(positionals, []);
    return withClient(values, io, async (client) => {
      const { templates } = await client.listTemplates(values.label === undefined ? {} : { label: values.label });
      io.out(values.json ? renderJson({ templates: templates.map(templateJson) }) : renderTemplates(templates));
      return 0;
    });
  });

export const template: CliCommand = subcommands('template', {
  create: { summary: 'create a policy template', run: create },
  get: { summary: 'one template', run: get },
  list: { summary: 'templates by name', run: list },
});
