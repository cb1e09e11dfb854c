import { readConfigPolicies } from '../../src/admin/index.js';
import { Command } from 'commander';
import { createLogger, flushLogs } from '../../src/log/fields.js';
import { startServer } from '../../src/main.js';
import { configFrom, print, withStoreOptions, type StoreOptions } from '../context.js';

/** `portcullis serve`. */
export function serveCommand(): Command {
  return withStoreOptions(new Command('serve'))
    .description('run the registry')
    .option('--listen <host:port>', 'address to listen on (env PORTCULLIS_LISTEN; default 127.0.0.1:5000)')
    .action(async (options: StoreOptions) => {
      const config = configFrom(options);
      const logger = createLogger(config.log.level);
      const running = await startServer(config, logger);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        running.close().then(
          () => {
            logger.info('stopped');
            flushLogs();
            process.exit(0);
          },
          (err: unknown) => {
            logger.error({ err }, 'failed to shut down cleanly');
            flushLogs();
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}

/** A database URL as printed: its password replaced, so the output can be pasted anywhere. */
function withoutPassword(database: string): string {
  if (database === 'sqlite') return database;
  try {
    const url = new URL(database);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return database;
  }
}

/** `portcullis config check`. */
export function configCommand(): Command {
  const config = new Command('config').description('configuration tools');
  withStoreOptions(config.command('check'))
    .description('validate the configuration (file and PORTCULLIS_* variables) and print it')
    .action((options: StoreOptions) => {
      const resolved = configFrom(options);
      const exports = resolved.audit.export.map((e) => (e.kind === 'webhook' ? { ...e, secret: '[redacted]' } : e));
      print(JSON.stringify({ ...resolved, database: withoutPassword(resolved.database), audit: { ...resolved.audit, export: exports } }, null, 2));
      for (const namespace of readConfigPolicies(resolved).keys()) print(`trust policy of namespace ${namespace}: valid`);
      print('configuration is valid');
    });

  return config;
}
