import { z } from 'zod';
import type { NatsServerOptions } from '../commands';

/** What the `kiln` commands read from the environment: the same variables as the region's. */
export interface CliConfig {
  /** KILN_DATABASE_URL. */
  databaseUrl: string;
  /** The NATS server settings a region writes, or null without the region's nkey (KILN_NATS_NKEY_FILE). */
  natsServer: NatsServerOptions | null;
  /** KILN_NATS_SERVER_CONFIG: the NATS server config file the regions keep, or null. */
  natsServerConfigFile: string | null;
}

/** The environment is wrong; `problems` names every bad variable, one line each. */
export class CliConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

type Env = Record<string, string | undefined>;

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  return z.NEVER;
}

/** A string variable; unset and empty give `dflt`. */
function text<D extends string | null>(dflt: D) {
  return z
    .string()
    .optional()
    .transform((raw) => raw || dflt);
}

const CLI_ENV = z
  .object({
    KILN_DATABASE_URL: z
      .string()
      .optional()
      .transform((value, ctx) => {
        const raw = value || 'postgres://postgres@127.0.0.1:5432/kiln';
        let protocol: string;
        try {
          protocol = new URL(raw).protocol;
        } catch {
          return fail(ctx, `is not a URL: "${raw}"`);
        }
        return protocol === 'postgres:' || protocol === 'postgresql:' ? raw : fail(ctx, `must use postgres: or postgresql:, got "${protocol}"`);
      }),
    KILN_NATS_NKEY_FILE: text(null),
    KILN_NATS_SERVER_CONFIG: text(null),
    KILN_NATS_SERVER_LISTEN: text('0.0.0.0:4222'),
    KILN_NATS_JETSTREAM_DIR: text('/var/lib/kiln/nats'),
    KILN_NATS_SERVER_PID_FILE: text('/run/kiln/nats-server.pid'),
    KILN_NATS_PREFIX: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const v = raw ?? '';
        return v === '' || /^([A-Za-z0-9_-]+\.)+$/.test(v) ? v : fail(ctx, `must be dot-terminated subject tokens (e.g. "site1."), got "${v}"`);
      }),
    KILN_NATS_TLS_CERT: text(null),
    KILN_NATS_TLS_KEY: text(null),
  })
  .transform(
    (e): CliConfig => ({
      databaseUrl: e.KILN_DATABASE_URL,
      natsServer:
        e.KILN_NATS_NKEY_FILE === null
          ? null
          : {
              nkeyFile: e.KILN_NATS_NKEY_FILE,
              listen: e.KILN_NATS_SERVER_LISTEN,
              jetstreamDir: e.KILN_NATS_JETSTREAM_DIR,
              pidFile: e.KILN_NATS_SERVER_PID_FILE,
              prefix: e.KILN_NATS_PREFIX,
              ...(e.KILN_NATS_TLS_CERT !== null && e.KILN_NATS_TLS_KEY !== null ? { tls: { certFile: e.KILN_NATS_TLS_CERT, keyFile: e.KILN_NATS_TLS_KEY } } : {}),
            },
      natsServerConfigFile: e.KILN_NATS_SERVER_CONFIG,
    }),
  );

/** Parses the CLI's environment once; throws `CliConfigError` naming every bad variable. */
export function loadCliConfig(env: Env): CliConfig {
  const r = CLI_ENV.safeParse(env);
  if (!r.success) throw new CliConfigError(r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  return r.data;
}
