import { Command, CommanderError } from 'commander';
import { AdminError } from '../src/admin/index.js';
import { ConfigError } from '../src/config/load.js';
import { bindingsCommand, grantCommand, namespaceCommand, revokeCommand } from './commands/access.js';
import { configCommand, serveCommand } from './commands/serve.js';
import { auditCommand } from './commands/audit.js';
import { credentialsCommand } from './commands/credentials.js';
import { explainCommand, whoCanCommand } from './commands/explain.js';
import { federationCommand } from './commands/federation.js';
import { incidentCommand } from './commands/incident.js';
import { groupCommand } from './commands/groups.js';
import { keysCommand } from './commands/keys.js';
import { loginCommand } from './commands/login.js';
import { robotCommand } from './commands/robots.js';
import { tokenCommand } from './commands/tokens.js';
import { quarantineCommand, scanCommand, tagCommand, trustCommand } from './commands/trust.js';
import { userCommand } from './commands/users.js';
import { UsageError } from './context.js';

/**
 * The `portcullis` command. Admin commands work directly on the metadata store named by the
 * configuration (the same one `serve` uses), so they work whether or not a server is running;
 * a running server sees their changes on its next request.
 */
export async function main(argv: string[]): Promise<void> {
  ignoreClosedOutput();
  const program = new Command('portcullis')
    .description('Portcullis: a private OCI registry that is a trust boundary')
    .exitOverride()
    .showHelpAfterError();
  program.addCommand(serveCommand());
  program.addCommand(userCommand());
  program.addCommand(namespaceCommand());
  program.addCommand(grantCommand());
  program.addCommand(revokeCommand());
  program.addCommand(bindingsCommand());
  program.addCommand(robotCommand());
  program.addCommand(federationCommand());
  program.addCommand(tokenCommand());
  program.addCommand(keysCommand());
  program.addCommand(auditCommand());
  program.addCommand(incidentCommand());
  program.addCommand(credentialsCommand());
  program.addCommand(configCommand());
  program.addCommand(groupCommand());
  program.addCommand(loginCommand());
  program.addCommand(explainCommand());
  program.addCommand(whoCanCommand());
  program.addCommand(trustCommand());
  program.addCommand(quarantineCommand());
  program.addCommand(tagCommand());
  program.addCommand(scanCommand());

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof AdminError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

/**
 * A reader that stops early (`portcullis audit pulls | head`) closes the pipe, and the next
 * write fails with EPIPE. What is left to print has nowhere to go, so it is dropped: the command
 * still finishes its work (and closes the store) and exits with its own status, without a stack
 * trace. Once the stream has failed, Node discards later writes to it on its own.
 */
function ignoreClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}
