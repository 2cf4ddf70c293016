import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { forbidden, invalid } from '../common/domain.error';
import { log } from '../logging/logger';
import { SECRET_BOX, SecretBox } from '../power/secret-box';
import { archiveSetting, CONFIG_SETTINGS, ConfigValue, configSetting } from './config.catalogue';
import { ConfigRepository } from './config.repository';

const RELISTEN_MS = 2000;

/**
 * MAAS's configuration, read once and cached. Every region listens to Postgres's `kiln_config`
 * channel, which the table's trigger notifies on any write, and drops its copy when told; while it
 * is not listening (connection lost, being re-established) it reads the table every time.
 */
@Injectable()
export class ConfigService implements OnModuleInit, OnModuleDestroy {
  private cache: Map<string, ConfigValue> | null = null;
  /** Bumped on every notification: a read that started before one does not fill the cache. */
  private generation = 0;
  private listening = false;
  private stop: (() => Promise<void>) | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: ConfigRepository,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.startListening();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.stop?.();
  }

  private async startListening(): Promise<void> {
    try {
      this.stop = await this.repo.listen(
        () => this.invalidate(),
        (err) => {
          this.listening = false;
          this.invalidate();
          if (this.closed) return;
          log().warn({ err: err.message }, 'config listener lost; reading config uncached until it is back');
          this.retry = setTimeout(() => void this.startListening(), RELISTEN_MS);
        },
      );
      this.listening = true;
      this.invalidate();
    } catch (e) {
      if (this.closed) return;
      log().warn({ err: (e as Error).message }, 'config listener failed to start; retrying');
      this.retry = setTimeout(() => void this.startListening(), RELISTEN_MS);
    }
  }

  private invalidate(): void {
    this.generation++;
    this.cache = null;
  }

  private async stored(): Promise<Map<string, ConfigValue>> {
    if (this.cache) return this.cache;
    const gen = this.generation;
    const rows = await this.repo.all();
    if (this.listening && gen === this.generation) this.cache = rows;
    return rows;
  }

  /** A setting's value: what was set, else MAAS's default. Throws INVALID for an unknown name. */
  async get(name: string): Promise<ConfigValue> {
    const archive = archiveSetting(name);
    if (archive) return this.repo.archiveUrl(archive.arches);
    const s = configSetting(name);
    if (!s) throw invalid({ name: [`${name} is not a valid config setting (valid settings are: ${CONFIG_SETTINGS.map((c) => c.name).join(', ')}).`] });
    const rows = await this.stored();
    const v = rows.has(s.name) ? rows.get(s.name)! : s.default;
    return s.secret && typeof v === 'string' ? this.box.open(v) : v;
  }

  /** `get` for an API caller: credentials only for administrators. */
  async read(name: string, caller: { isAdmin: boolean }): Promise<ConfigValue> {
    if (configSetting(name)?.secret && !caller.isAdmin) throw forbidden(`${name} is a credential: only administrators may read it.`);
    return this.get(name);
  }

  async getString(name: string): Promise<string> {
    const v = await this.get(name);
    return v === null ? '' : String(v);
  }

  async getBool(name: string): Promise<boolean> {
    return (await this.get(name)) === true;
  }

  /** Validates `raw` as MAAS's settings form would and stores it. */
  async set(name: string | undefined, raw: string | undefined): Promise<void> {
    if (!name) throw invalid({ name: ['This field is required.'] });
    const archive = archiveSetting(name);
    if (archive) {
      const parsed = archive.parse(raw ?? '');
      if (!parsed.ok) throw invalid({ [name]: [parsed.error] });
      await this.repo.setArchiveUrl(name, archive.arches, String(parsed.value));
      return;
    }
    const s = configSetting(name);
    if (!s) throw invalid({ name: [`${name} is not a valid config setting (valid settings are: ${CONFIG_SETTINGS.map((c) => c.name).join(', ')}).`] });
    const parsed = s.parse(raw ?? '');
    if (!parsed.ok) throw invalid({ [name]: [parsed.error] });
    await this.repo.set(s.name, s.secret && typeof parsed.value === 'string' && parsed.value ? this.box.seal(parsed.value) : parsed.value);
    this.invalidate();
  }
}
